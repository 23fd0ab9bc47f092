//! The end-to-end suite: the real bot over HTTP against the fakes, on SQLite and (with
//! `TEST_DATABASE_URL`) PostgreSQL, plus the clients against the fakes, the sandbox page
//! in headless Chromium, and the crash and chaos runs of bot processes. One binary, so
//! the bot, the fakes and the harness are linked once.

mod common;

mod accounts;
mod accounts_browser;
mod accounts_logout;
mod accounts_sign_in;
mod authorization;
mod bad_input;
mod chaos;
mod commands_read;
mod confirm;
mod connect;
mod deploy;
mod deploy_crash;
mod deploy_faults;
mod doctor;
mod github_client;
mod heroku_client;
mod home;
mod home_browser;
mod home_buttons;
mod home_events;
mod install_state;
mod locks;
mod metrics;
mod outside_text;
mod pacing;
mod promote;
mod promote_crash;
mod queue;
mod queue_crash;
mod queue_start;
mod rekey;
mod release_notes;
mod response_urls;
mod rollback;
mod routes;
mod sandbox_page;
mod sandbox_page_api;
mod secrets;
mod setup_files;
mod slack_client;
mod slack_commands;
mod slack_manifest;
mod slack_sdk_signed;
mod slow_clients;
mod worker;
