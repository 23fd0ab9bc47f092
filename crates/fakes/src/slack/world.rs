//! Who exists in the fake Slack: the app, its workspaces with their users and
//! channels, and the bot tokens, with the access rules Slack applies to them
//! (`not_authed`, `invalid_auth`, `token_revoked`, `channel_not_found`,
//! `not_in_channel`).

use std::collections::HashMap;

use super::params::Refusal;

/// The one Slack app the fake knows, as its OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub app_id: String,
}

/// A workspace (Slack calls it a team).
#[derive(Debug, Clone)]
pub(super) struct Workspace {
    pub id: String,
    pub name: String,
    /// The bot's user and bot ids in this workspace.
    pub bot_user_id: String,
    pub bot_id: String,
    /// `(id, name)` of the people.
    pub users: Vec<(String, String)>,
    pub channels: Vec<Channel>,
}

#[derive(Debug, Clone)]
pub(super) struct Channel {
    pub id: String,
    pub name: String,
    /// Without it, posting answers `not_in_channel`.
    pub bot_is_member: bool,
    pub members: Vec<String>,
}

/// A bot token and what it was granted.
#[derive(Debug, Clone)]
struct Token {
    team: String,
    revoked: bool,
}

#[derive(Debug)]
pub(super) struct World {
    pub app: AppCredentials,
    pub workspaces: Vec<Workspace>,
    tokens: HashMap<String, Token>,
}

impl World {
    /// `T0SANDBOX` "Sandbox" (#deploys, #general, and #incidents without the bot) and
    /// `T0OTHER`, each already installed with a bot token.
    pub fn seeded() -> World {
        let sandbox_people = ["U0ALICE", "U0BOB", "U0CAROL"];
        let sandbox = Workspace {
            id: "T0SANDBOX".into(),
            name: "Sandbox".into(),
            bot_user_id: "U0BOTSANDBOX".into(),
            bot_id: "B0BOTSANDBOX".into(),
            users: people(&[("U0ALICE", "alice"), ("U0BOB", "bob"), ("U0CAROL", "carol")]),
            channels: vec![
                channel("C0DEPLOYS", "deploys", true, &sandbox_people),
                channel("C0GENERAL", "general", true, &sandbox_people),
                channel("C0INCIDENTS", "incidents", false, &sandbox_people),
            ],
        };
        let other = Workspace {
            id: "T0OTHER".into(),
            name: "Other Workspace".into(),
            bot_user_id: "U0BOTOTHER".into(),
            bot_id: "B0BOTOTHER".into(),
            users: people(&[("U0DAVE", "dave")]),
            channels: vec![channel("C0OTHERGEN", "general", true, &["U0DAVE"])],
        };
        let app = AppCredentials {
            client_id: format!("{}.{}", digits(13), digits(13)),
            client_secret: random_alphanumeric(32).to_lowercase(),
            app_id: "A0CHATOPS01".into(),
        };
        let mut world = World {
            app,
            workspaces: vec![sandbox, other],
            tokens: HashMap::new(),
        };
        for team in ["T0SANDBOX", "T0OTHER"] {
            world.install(team);
        }
        world
    }

    /// Adds workspace `id` with `people` (`(id, name)`) and `channels` (`(id, name)`,
    /// every person in each, the bot too), and installs the app there; returns the bot
    /// token. Channel ids must be new: Slack's are unique across workspaces.
    pub fn add_workspace(
        &mut self,
        id: &str,
        name: &str,
        people_: &[(&str, &str)],
        channels: &[(&str, &str)],
    ) -> String {
        let members: Vec<&str> = people_.iter().map(|(user, _)| *user).collect();
        self.workspaces.push(Workspace {
            id: id.into(),
            name: name.into(),
            bot_user_id: format!("U0BOT{id}"),
            bot_id: format!("B0BOT{id}"),
            users: people(people_),
            channels: channels
                .iter()
                .map(|(channel_id, name)| channel(channel_id, name, true, &members))
                .collect(),
        });
        self.install(id)
    }

    pub fn workspace(&self, team: &str) -> Option<&Workspace> {
        self.workspaces
            .iter()
            .find(|workspace| workspace.id == team)
    }

    /// The workspace a request's token acts in, or Slack's refusal.
    pub fn authenticate(&self, token: Option<&str>) -> Result<&Workspace, Refusal> {
        let token = token.ok_or(Refusal::Error("not_authed"))?;
        let grant = self
            .tokens
            .get(token)
            .ok_or(Refusal::Error("invalid_auth"))?;
        if grant.revoked {
            return Err(Refusal::Error("token_revoked"));
        }
        self.workspace(&grant.team)
            .ok_or(Refusal::Error("invalid_auth"))
    }

    /// The workspace's live bot token.
    pub fn bot_token(&self, team: &str) -> Option<String> {
        self.tokens
            .iter()
            .find(|(_, grant)| grant.team == team && !grant.revoked)
            .map(|(token, _)| token.clone())
    }

    /// Installs the app in `team`: like Slack, a reinstall keeps the live bot token
    /// and only an uninstalled (revoked) bot gets a new one.
    pub fn install(&mut self, team: &str) -> String {
        if let Some(token) = self.bot_token(team) {
            return token;
        }
        let token = format!(
            "xoxb-{}-{}-{}",
            digits(13),
            digits(13),
            random_alphanumeric(24)
        );
        self.tokens.insert(
            token.clone(),
            Token {
                team: team.into(),
                revoked: false,
            },
        );
        token
    }

    /// Revokes a token (as uninstalling the app or `auth.revoke` would); false if unknown.
    pub fn revoke(&mut self, token: &str) -> bool {
        self.tokens
            .get_mut(token)
            .map(|grant| grant.revoked = true)
            .is_some()
    }
}

impl Workspace {
    /// A channel of this workspace by id (or `#name`), where the bot may post.
    pub fn postable_channel(&self, channel: Option<&str>) -> Result<&Channel, Refusal> {
        let wanted = channel.ok_or(Refusal::Error("channel_not_found"))?;
        let found = self
            .channels
            .iter()
            .find(|c| c.id == wanted || wanted.strip_prefix('#') == Some(c.name.as_str()))
            .ok_or(Refusal::Error("channel_not_found"))?;
        if !found.bot_is_member {
            return Err(Refusal::Error("not_in_channel"));
        }
        Ok(found)
    }
}

fn channel(id: &str, name: &str, bot_is_member: bool, members: &[&str]) -> Channel {
    Channel {
        id: id.into(),
        name: name.into(),
        bot_is_member,
        members: members.iter().map(|member| member.to_string()).collect(),
    }
}

fn people(people: &[(&str, &str)]) -> Vec<(String, String)> {
    people
        .iter()
        .map(|(id, name)| (id.to_string(), name.to_string()))
        .collect()
}

fn digits(count: usize) -> String {
    (0..count).map(|_| fastrand::digit(10)).collect()
}

/// Random letters and digits, for secrets nobody can guess.
pub(super) fn random_alphanumeric(count: usize) -> String {
    (0..count).map(|_| fastrand::alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_workspace_is_installed_and_its_channels_postable_with_its_token_only() {
        let mut world = World::seeded();
        let token = world.add_workspace(
            "T0ADDED",
            "Added",
            &[("U0EVE", "eve")],
            &[("C0ADDED", "ops")],
        );
        let added = world.authenticate(Some(&token)).expect("its token works");
        assert_eq!(added.id, "T0ADDED");
        assert_eq!(
            added.postable_channel(Some("C0ADDED")).unwrap().members,
            ["U0EVE"]
        );
        let sandbox = world
            .authenticate(Some(&world.bot_token("T0SANDBOX").unwrap()))
            .unwrap();
        assert_eq!(
            sandbox.postable_channel(Some("C0ADDED")).unwrap_err(),
            Refusal::Error("channel_not_found"),
            "another workspace's token cannot post there"
        );
    }
}
