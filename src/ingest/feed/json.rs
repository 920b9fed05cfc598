//! JSON Feed (1.0 and 1.1), read with a bound: items past the sink's cap are skipped by
//! the deserializer without being built, and a field of the wrong JSON type is ignored
//! rather than failing the feed. serde_json's recursion limit (128) bounds nesting.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Kind, RawEntry, RawFeed, Refusal, Sink, Text, build::resolve, date};

/// A string field that tolerates other JSON types (numbers become text, the rest None).
#[derive(Default)]
struct Lenient(Option<String>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient(Some(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Lenient, E> {
                Ok(Lenient(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient(Some(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(Some(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Lenient, E> {
                Ok(Lenient(Some(v.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_unit<E>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_none<E>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Lenient, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Lenient, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Author {
    name: Lenient,
}

/// `author` (1.0) is an object; anything else is ignored.
#[derive(Default)]
struct MaybeAuthor(Option<String>);

impl<'de> Deserialize<'de> for MaybeAuthor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeAuthor;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an author")
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<MaybeAuthor, A::Error> {
                let author = Author::deserialize(de::value::MapAccessDeserializer::new(a))?;
                Ok(MaybeAuthor(author.name.0))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<MaybeAuthor, A::Error> {
                // `authors` (1.1): the first one with a name; the rest are not kept.
                let mut first = None;
                while let Some(MaybeAuthor(name)) = a.next_element::<MaybeAuthor>()? {
                    first = first.or(name);
                }
                Ok(MaybeAuthor(first))
            }
            fn visit_str<E>(self, v: &str) -> Result<MaybeAuthor, E> {
                Ok(MaybeAuthor(Some(v.to_string())))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeAuthor, E> {
                Ok(MaybeAuthor(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeAuthor, E> {
                Ok(MaybeAuthor(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeAuthor, E> {
                Ok(MaybeAuthor(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeAuthor, E> {
                Ok(MaybeAuthor(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeAuthor, E> {
                Ok(MaybeAuthor(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Item {
    id: Lenient,
    url: Lenient,
    external_url: Lenient,
    title: Lenient,
    content_html: Lenient,
    content_text: Lenient,
    summary: Lenient,
    image: Lenient,
    banner_image: Lenient,
    date_published: Lenient,
    date_modified: Lenient,
    author: MaybeAuthor,
    authors: MaybeAuthor,
    tags: Tags,
}

/// `tags`: its strings (see [`super::add_category`]); anything else is ignored.
#[derive(Default)]
struct Tags(Vec<String>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of tags")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(Lenient(tag)) = a.next_element::<Lenient>()? {
                    if let Some(tag) = tag {
                        super::add_category(&mut tags, &tag);
                    }
                }
                Ok(Tags(tags))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Tags, A::Error> {
                while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Tags::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_unit<E>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// Feeds each item to the sink as it is read; items after the sink is full are skipped.
struct Items<'a, 's, 'k> {
    sink: &'a mut Sink<'k>,
    base: Option<&'s url::Url>,
    /// The feed's author, for items that name none (when it comes before the items).
    feed_author: Option<String>,
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of items")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let mut full = false;
        loop {
            if full {
                if a.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(());
                }
                continue;
            }
            let Some(item) = a.next_element::<ItemOrJunk>()? else { return Ok(()) };
            if let ItemOrJunk(Some(item)) = item {
                let mut entry = entry_of(item, self.base);
                if entry.author.is_none() {
                    entry.author = self.feed_author.clone();
                }
                full = !(self.sink)(entry);
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An item, or None for a non-object in the list.
struct ItemOrJunk(Option<Item>);

impl<'de> Deserialize<'de> for ItemOrJunk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ItemOrJunk;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an item")
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<ItemOrJunk, A::Error> {
                Item::deserialize(de::value::MapAccessDeserializer::new(a))
                    .map(|i| ItemOrJunk(Some(i)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<ItemOrJunk, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ItemOrJunk(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<ItemOrJunk, E> {
                Ok(ItemOrJunk(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<ItemOrJunk, E> {
                Ok(ItemOrJunk(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<ItemOrJunk, E> {
                Ok(ItemOrJunk(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<ItemOrJunk, E> {
                Ok(ItemOrJunk(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<ItemOrJunk, E> {
                Ok(ItemOrJunk(None))
            }
            fn visit_unit<E>(self) -> Result<ItemOrJunk, E> {
                Ok(ItemOrJunk(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The top-level object: the feed fields, with `items` streamed into the sink.
struct Top<'a, 's, 'k> {
    sink: &'a mut Sink<'k>,
    base: Option<&'s url::Url>,
}

#[derive(Default)]
struct TopFields {
    version: Option<String>,
    title: Option<String>,
    home_page_url: Option<String>,
    author: Option<String>,
    saw_items: bool,
}

impl<'de> Visitor<'de> for Top<'_, '_, '_> {
    type Value = TopFields;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON Feed object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<TopFields, A::Error> {
        let mut out = TopFields::default();
        while let Some(key) = a.next_key::<String>()? {
            match key.as_str() {
                "version" => out.version = a.next_value::<Lenient>()?.0,
                "title" => out.title = a.next_value::<Lenient>()?.0,
                "home_page_url" => out.home_page_url = a.next_value::<Lenient>()?.0,
                "author" | "authors" => {
                    let author = a.next_value::<MaybeAuthor>()?.0;
                    out.author = out.author.take().or(author);
                }
                "items" if !out.saw_items => {
                    out.saw_items = true;
                    let feed_author = out.author.clone();
                    a.next_value_seed(Items {
                        sink: &mut *self.sink,
                        base: self.base,
                        feed_author,
                    })?;
                }
                _ => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

fn text(v: Option<String>, kind: Kind) -> Option<Text> {
    v.filter(|s| !s.trim().is_empty()).map(|value| Text { value, kind })
}

fn entry_of(item: Item, base: Option<&url::Url>) -> RawEntry {
    let link = item.url.0.or(item.external_url.0).filter(|u| !u.trim().is_empty());
    RawEntry {
        id: item.id.0.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        title: text(item.title.0, Kind::Plain),
        link: link.map(|l| resolve(base, &l)),
        published: item.date_published.0.as_deref().and_then(date::parse),
        updated: item.date_modified.0.as_deref().and_then(date::parse),
        author: item.author.0.or(item.authors.0).filter(|a| !a.trim().is_empty()),
        content: text(item.content_html.0, Kind::Html)
            .or_else(|| text(item.content_text.0, Kind::Plain)),
        summary: text(item.summary.0, Kind::Plain),
        image: item.image.0.or(item.banner_image.0).map(|u| resolve(base, &u)),
        categories: item.tags.0,
    }
}

pub fn read(src: &str, base: Option<&str>, sink: &mut Sink<'_>) -> Result<RawFeed, Refusal> {
    let base = base.and_then(|b| url::Url::parse(b).ok());
    let mut de = serde_json::Deserializer::from_str(src);
    let top = de
        .deserialize_map(Top { sink, base: base.as_ref() })
        .map_err(|e| Refusal::Json(e.to_string()))?;
    de.end().map_err(|e| Refusal::Json(e.to_string()))?;
    let is_json_feed =
        top.version.as_deref().is_some_and(|v| v.contains("jsonfeed.org")) || top.saw_items;
    if !is_json_feed {
        return Err(Refusal::Json("JSON without a JSON Feed version or items".into()));
    }
    Ok(RawFeed {
        title: text(top.title, Kind::Plain),
        link: top
            .home_page_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| resolve(base.as_ref(), &u)),
    })
}
