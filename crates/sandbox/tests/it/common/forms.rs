//! Reads the form on an HTML page (the sandbox providers' authorize pages) and works
//! out what a browser would send when one of its buttons is pressed: the hidden
//! fields, the checked radio buttons, and the pressed button's own name and value.
//! Enough HTML for the pages the fakes serve, not a general parser.

/// The first `<form>` of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub method: String,
    pub action: String,
    fields: Vec<(String, String)>,
    buttons: Vec<Button>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Button {
    name: Option<String>,
    value: Option<String>,
    label: String,
}

impl Form {
    /// The first form in `html`; panics (a broken test page) when there is none.
    pub fn of(html: &str) -> Form {
        let start = html.find("<form").expect("the page has a form");
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |end| start + end);
        let body = &html[start..end];
        let form_tag = tag_attributes(&body[1..]);
        let mut fields = Vec::new();
        for input in tags(body, "input") {
            let attributes = tag_attributes(input);
            let kind = attribute(&attributes, "type").unwrap_or("text");
            let (Some(name), value) = (
                attribute(&attributes, "name"),
                attribute(&attributes, "value"),
            ) else {
                continue;
            };
            let checked = attributes.iter().any(|(key, _)| key == "checked");
            if kind == "hidden" || kind == "text" || (kind == "radio" && checked) {
                fields.push((name.to_owned(), value.unwrap_or_default().to_owned()));
            }
        }
        let buttons = tags(body, "button")
            .into_iter()
            .map(|button| {
                let attributes = tag_attributes(button);
                let label_start = button.find('>').map_or(button.len(), |i| i + 1);
                let label_end = button.find("</button>").unwrap_or(button.len());
                Button {
                    name: attribute(&attributes, "name").map(str::to_owned),
                    value: attribute(&attributes, "value").map(str::to_owned),
                    label: unescape(button[label_start..label_end].trim()),
                }
            })
            .collect();
        Form {
            method: attribute(&form_tag, "method")
                .unwrap_or("get")
                .to_ascii_uppercase(),
            action: attribute(&form_tag, "action")
                .unwrap_or_default()
                .to_owned(),
            fields,
            buttons,
        }
    }

    /// Checks the radio button `name` = `value` instead of the default one.
    pub fn choose(mut self, name: &str, value: &str) -> Form {
        self.fields.retain(|(key, _)| key != name);
        self.fields.push((name.to_owned(), value.to_owned()));
        self
    }

    /// What pressing the button labelled `label` sends.
    pub fn pressing(&self, label: &str) -> Vec<(String, String)> {
        let button = self
            .buttons
            .iter()
            .find(|button| button.label == label)
            .unwrap_or_else(|| panic!("no button {label:?} among {:?}", self.buttons));
        let mut sent = self.fields.clone();
        if let (Some(name), Some(value)) = (&button.name, &button.value) {
            sent.push((name.clone(), value.clone()));
        }
        sent
    }

    /// The absolute URL the form goes to, from the page at `page_url`.
    pub fn target(&self, page_url: &str) -> String {
        if self.action.starts_with("http://") || self.action.starts_with("https://") {
            return self.action.clone();
        }
        let origin_end = page_url
            .find("://")
            .and_then(|scheme| page_url[scheme + 3..].find('/').map(|i| scheme + 3 + i))
            .unwrap_or(page_url.len());
        format!("{}{}", &page_url[..origin_end], self.action)
    }

    /// Presses `label` with `http` (which should not follow redirects, so the caller
    /// sees where the provider sends the browser).
    pub async fn submit(
        &self,
        http: &reqwest::Client,
        page_url: &str,
        label: &str,
    ) -> reqwest::Response {
        let sent = self.pressing(label);
        let url = self.target(page_url);
        let request = match self.method.as_str() {
            "POST" => http.post(url).form(&sent),
            _ => http.get(url).query(&sent),
        };
        request
            .send()
            .await
            .expect("the form submission is answered")
    }
}

/// Each `<name …>` tag's text, from just after `<`.
fn tags<'h>(html: &'h str, name: &str) -> Vec<&'h str> {
    let opening = format!("<{name}");
    html.match_indices(opening.as_str())
        .map(|(index, _)| &html[index + 1..])
        .filter(|rest| rest[name.len()..].starts_with(|c: char| c.is_whitespace() || c == '>'))
        .collect()
}

/// The attributes of the tag whose text starts at `tag` (its name first).
fn tag_attributes(tag: &str) -> Vec<(String, String)> {
    let end = tag.find('>').unwrap_or(tag.len());
    let mut rest = tag[..end].trim_end_matches('/');
    rest = rest.trim_start_matches(|c: char| !c.is_whitespace());
    let mut attributes = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return attributes;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        let value = if let Some(after) = rest.strip_prefix('=') {
            let (value, left) = quoted(after);
            rest = left;
            unescape(value)
        } else {
            String::new()
        };
        attributes.push((name, value));
    }
}

fn quoted(text: &str) -> (&str, &str) {
    match text.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let end = text[1..].find(quote).map_or(text.len(), |i| i + 1);
            (&text[1..end], text.get(end + 1..).unwrap_or(""))
        }
        _ => {
            let end = text.find(char::is_whitespace).unwrap_or(text.len());
            (&text[..end], &text[end..])
        }
    }
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Undoes the escaping the fakes apply.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
