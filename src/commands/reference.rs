//! A command named in herald's own text, in a form any platform can write its own way.
//!
//! herald's replies name commands in code spans: a hint with values (`subscribe 1`,
//! `digest schedule daily 08:00 Europe/Paris`), or a form's usage line in help and in
//! parse errors (`search QUERY [--feed FEED] …`). A platform that reads text (the
//! console, Matrix with its prefix) shows the span as typed; a platform with structured
//! commands (slash commands) shows the command's words and each option by name. This
//! module gives the latter what it needs, from the families' declarations.

use super::cmd;
use super::lex::{Lexer, option_name};
use super::parse;
use super::spec::{Choices, Form, OptKind, OptSpec};

/// A command reference: its words and options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// "feeds add", "search", or a family's word alone ("feeds").
    pub words: String,
    pub args: Vec<Arg>,
}

/// One option of a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub kind: OptKind,
    /// `None` in a usage line: the option's place, to be filled in.
    pub value: Option<String>,
    pub required: bool,
    /// The fixed values the option offers (a short list), for a placeholder.
    pub choices: Vec<&'static str>,
}

impl Arg {
    fn placeholder(spec: &OptSpec) -> Arg {
        // A short fixed list reads well in a usage line; help topics (generated, many)
        // do not.
        let choices = match spec.choices {
            Choices::Fixed(c) => c.to_vec(),
            _ => Vec::new(),
        };
        Arg { name: spec.name, kind: spec.kind, value: None, required: spec.required, choices }
    }

    /// A value from a hint; a word in capitals (`FEED`, `NEW-URL`) is a placeholder.
    fn given(spec: &OptSpec, value: String) -> Arg {
        let value = (!is_placeholder(&value)).then_some(value);
        Arg { name: spec.name, kind: spec.kind, value, required: true, choices: Vec::new() }
    }

    /// A word of a hint for `spec`: a value, or a placeholder in capitals (`URL`), in
    /// brackets when optional (`[TZ]`, `[instant|digest]`).
    fn written(spec: &OptSpec, word: &str) -> Arg {
        let inner = word.strip_prefix('[').and_then(|w| w.strip_suffix(']'));
        Arg { required: inner.is_none(), ..Arg::given(spec, inner.unwrap_or(word).to_string()) }
    }
}

/// The command `code` names, or `None` when it names none (`source`, `herald feeds
/// list`). Never fails otherwise: what cannot be matched to an option is kept as text
/// of the last one, so nothing the text said is lost.
pub fn reference(code: &str) -> Option<Reference> {
    let code = code.trim();
    let code = code.strip_prefix('/').unwrap_or(code);
    let first = code.split_whitespace().next()?.to_lowercase();
    let family = cmd::family(&first)?;
    // A usage line, exactly as declared: every option as a placeholder.
    if let Some(form) = family.forms.iter().find(|f| f.usage == code) {
        return Some(Reference {
            words: form.name.to_string(),
            args: form.options.iter().map(Arg::placeholder).collect(),
        });
    }
    if family.group.as_ref().is_some_and(|g| g.usage == code) {
        return Some(Reference { words: code.to_string(), args: Vec::new() });
    }
    let mut lexer = Lexer::new(code);
    let mut tokens = lexer.rest_tokens().ok()?.into_iter().skip(1).peekable();
    let form = match &family.group {
        None => family.form(None)?,
        Some(_) => {
            let sub = tokens.peek().map(|t| t.text.to_lowercase());
            match family.form(sub.as_deref()) {
                Some(form) => {
                    tokens.next();
                    form
                }
                // The word alone, or a subcommand herald does not know: as written.
                None => return Some(Reference { words: code.to_string(), args: Vec::new() }),
            }
        }
    };
    // A hint that is a whole command: its options as the family reads them.
    if let Ok(command) = parse::parse(code)
        && command.name() == form.name
    {
        let args = command
            .options()
            .into_iter()
            .filter_map(|(name, value)| spec(form, name).map(|s| Arg::given(s, value)))
            .collect();
        return Some(Reference { words: form.name.to_string(), args });
    }
    // A hint with placeholders (`feeds add URL`): words in the order the form declares
    // its options, `--name value` by name.
    let mut words = form.name.to_string();
    let mut args: Vec<Arg> = Vec::new();
    let positional: Vec<&OptSpec> =
        form.options.iter().filter(|o| o.kind != OptKind::File).collect();
    let mut next = positional.iter();
    while let Some(token) = tokens.next() {
        if let Some(raw) = option_name(&token) {
            let (name, inline) = match raw.split_once('=') {
                Some((n, v)) => (n.to_lowercase(), Some(v.to_string())),
                None => (raw.to_lowercase(), None),
            };
            if let Some(s) = spec(form, &name) {
                let value = inline.or_else(|| tokens.next().map(|t| t.text)).unwrap_or_default();
                args.push(Arg::given(s, value));
                continue;
            }
        }
        let free = next.by_ref().find(|s| !args.iter().any(|a| a.name == s.name));
        match (free, args.last_mut()) {
            (Some(s), _) => args.push(Arg::written(s, &token.text)),
            (None, Some(last)) => match &mut last.value {
                Some(value) => {
                    value.push(' ');
                    value.push_str(&token.text);
                }
                None => last.value = Some(token.text),
            },
            // A form without options: the words stay words.
            (None, None) => {
                words.push(' ');
                words.push_str(&token.text);
            }
        }
    }
    Some(Reference { words, args })
}

/// A usage's word for a value to fill in: capitals, digits and dashes (`URL`, `NEW-URL`).
fn is_placeholder(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-_".contains(c))
}

/// `code` cut at ` | ` when each part names a command (a group's usage: `digest
/// schedule SPEC [TZ] | digest now | digest preview`), else `code` whole.
pub fn alternatives(code: &str) -> Vec<&str> {
    let parts: Vec<&str> = code.split(" | ").map(str::trim).collect();
    if parts.len() > 1 && parts.iter().all(|p| cmd::is_command_reference(p)) {
        parts
    } else {
        vec![code]
    }
}

fn spec(form: &'static Form, name: &str) -> Option<&'static OptSpec> {
    form.options.iter().find(|o| o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::spec::{Invocation, OptValue};

    fn show(r: &Reference) -> String {
        let mut out = r.words.clone();
        for a in &r.args {
            let v = a.value.clone().unwrap_or_else(|| format!("<{}>", a.name));
            let one = format!(" {}:{v}", a.name);
            out.push_str(&if a.required { one } else { format!(" [{}]", one.trim()) });
        }
        out
    }

    fn r(code: &str) -> String {
        show(&reference(code).unwrap_or_else(|| panic!("{code} names a command")))
    }

    #[test]
    fn hints_become_options() {
        assert_eq!(r("subscribe 1"), "subscribe feed:1");
        assert_eq!(r("feeds resume 3"), "feeds resume feed:3");
        assert_eq!(r("feeds add URL"), "feeds add url:<url>");
        assert_eq!(r("feeds add URL 30m"), "feeds add url:<url> interval:30m");
        assert_eq!(
            r("digest schedule daily 08:00 Europe/Paris"),
            "digest schedule when:daily 08:00 timezone:Europe/Paris"
        );
        assert_eq!(r("search korea --since 7d --page 2"), "search query:korea since:7d page:2");
        assert_eq!(r("feeds list"), "feeds list");
        assert_eq!(r("feeds"), "feeds");
        assert_eq!(r("latest"), "latest");
        assert_eq!(r("search"), "search");
        assert_eq!(r("feeds remove FEED"), "feeds remove feed:<feed>");
        assert_eq!(r("feeds remove NEW-URL"), "feeds remove feed:<feed>");
        assert_eq!(
            r("digest schedule SPEC [TZ]"),
            "digest schedule when:<when> [timezone:<timezone>]"
        );
        assert_eq!(
            r("subscribe FEED [instant|digest]"),
            "subscribe feed:<feed> [mode:instant|digest]"
        );
        assert_eq!(r("feeds frobnicate 2"), "feeds frobnicate 2");
        assert_eq!(r("feeds list all"), "feeds list all", "nothing written is lost");
        assert_eq!(r("article 4 5"), "article id:4 5");
        assert_eq!(reference("source"), None);
        assert_eq!(reference("herald feeds list"), None);
        assert_eq!(reference(""), None);
        assert_eq!(
            alternatives(parse::usage("digest")),
            vec!["digest schedule SPEC [TZ]", "digest now", "digest preview"]
        );
        assert_eq!(alternatives("search a | b"), vec!["search a | b"]);
    }

    #[test]
    fn usage_lines_list_every_option() {
        assert_eq!(
            r(parse::usage("search")),
            "search query:<query> [feed:<feed>] [since:<since>] [page:<page>]"
        );
        assert_eq!(
            r(parse::usage("subscribe")),
            "subscribe feed:<feed> [mode:<mode>] [include:<include>] [exclude:<exclude>] \
             [style:<style>] [template:<template>] [mention:<mention>] [notify:<notify>] \
             [thread:<thread>] [webhook:<webhook>] [preview:<preview>] [channel:<channel>]"
        );
        let mode = reference(parse::usage("subscribe")).expect("usage").args[1].clone();
        assert_eq!(mode.choices, vec!["instant", "digest"]);
        assert_eq!(r(parse::usage("feeds")), parse::usage("feeds"));
        for form in cmd::forms_in_help_order() {
            let re = reference(form.usage).expect("a usage names its command");
            assert_eq!(re.words, form.name);
            assert_eq!(re.args.len(), form.options.len(), "{}", form.name);
        }
    }

    /// `options` is the inverse of each family's `from_options`: the hint shown as a
    /// slash command runs the same command.
    #[test]
    fn options_round_trip_through_from_options() {
        for line in [
            "feeds add https://x.org/rss 30m",
            "feeds remove 4",
            "feeds pause yonhap",
            "feeds resume https://x.org/rss",
            "feeds import https://x.org/f.opml",
            "feeds list",
            "feeds export",
            "subscribe 1 digest --include korea,title:trade --exclude /sport|golf/",
            "subscribe #2",
            "unsubscribe 3",
            "subscriptions",
            "digest schedule weekly mon 08:00 Europe/Paris",
            "digest schedule every 6h",
            "digest now",
            "digest preview",
            "search \"north korea\" trade --feed 4 --since 2026-11-01 --page 3",
            "search x --since 36h",
            "article 42",
            "latest yonhap 7",
            "latest",
            "help feeds add",
            "help",
        ] {
            let command = parse::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let options = command.options();
            let values = options
                .iter()
                .map(|(n, v)| {
                    let value = match *n {
                        "page" | "count" | "id" => OptValue::Integer(v.parse().expect("a number")),
                        _ => OptValue::Text(v.clone()),
                    };
                    (*n, value)
                })
                .collect();
            let sub = command.name().split_once(' ').map(|(_, s)| s);
            let word = command.name().split(' ').next().unwrap_or_default();
            let again = cmd::from_options(word, &Invocation { sub, values })
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(again, command, "{line}");
        }
    }
}
