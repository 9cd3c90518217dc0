//! The index schema, and a customer as an index document.

use super::tokenize::{self, NAME};
use crate::records::Customer;
use chrono::NaiveDate;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{TantivyDocument, Term};

/// Every field of the index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Record path relative to the data root: the key of a document.
    pub path: Field,
    pub id: Field,
    pub display: Field,
    /// Stored as written, for hits: id, owner, tier, stage.
    pub shown: Field,
    pub owner: Field,
    /// 1 when the customer has no owner (in the pool).
    pub pool: Field,
    pub tier: Field,
    pub stage: Field,
    pub kind: Field,
    pub country: Field,
    pub name: Field,
    pub contact: Field,
    pub group: Field,
    pub industry: Field,
    pub city: Field,
    pub source: Field,
    pub tag: Field,
    pub email: Field,
    pub phone: Field,
    pub created: Field,
    pub next_followup: Field,
    pub followup: Field,
    /// Every searchable text value, one per line; stored for snippets.
    pub text: Field,
    /// Tie-break order (name prefix) for equal scores.
    pub order: Field,
}

fn text_opts(stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored { o.set_stored() } else { o }
}

/// A field indexed as exact, normalised values.
fn keyword() -> TextOptions {
    STRING
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let fields = Fields {
            path: b.add_text_field("path", STRING | STORED),
            id: b.add_text_field("id", keyword()),
            display: b.add_text_field("display", STORED),
            shown: b.add_text_field("shown", STORED),
            owner: b.add_text_field("owner", keyword()),
            pool: b.add_u64_field("pool", INDEXED),
            tier: b.add_text_field("tier", keyword()),
            stage: b.add_text_field("stage", keyword()),
            kind: b.add_text_field("type", keyword()),
            country: b.add_text_field("country", keyword()),
            name: b.add_text_field("name", text_opts(false)),
            contact: b.add_text_field("contact", text_opts(false)),
            group: b.add_text_field("group", text_opts(false)),
            industry: b.add_text_field("industry", text_opts(false)),
            city: b.add_text_field("city", text_opts(false)),
            source: b.add_text_field("source", text_opts(false)),
            tag: b.add_text_field("tag", text_opts(false)),
            email: b.add_text_field("email", keyword()),
            phone: b.add_text_field("phone", keyword()),
            created: b.add_i64_field("created", INDEXED),
            next_followup: b.add_i64_field("next_followup", INDEXED),
            followup: b.add_i64_field("followup", INDEXED),
            text: b.add_text_field("text", text_opts(true)),
            order: b.add_u64_field("order", FAST),
        };
        (b.build(), fields)
    }

    /// The fields of an existing index's schema, if it has them all.
    pub fn of(schema: &Schema) -> Option<Fields> {
        let (own, f) = Fields::schema();
        if own != *schema {
            return None;
        }
        Some(f)
    }

    pub fn path_term(&self, path: &str) -> Term {
        Term::from_field_text(self.path, path)
    }
}

/// Days since 1970-01-01: how dates are indexed.
pub fn day_number(d: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (d - epoch).num_days()
}

/// A keyword value as indexed and queried: normalised, whole.
pub fn keyword_value(s: &str) -> String {
    tokenize::normalize(s.trim())
}

/// The searchable terms of an e-mail address: the address, its local part,
/// its domain and every parent domain with a dot (`mail.abc.com`, `abc.com`).
pub fn email_terms(email: &str) -> Vec<String> {
    let e = keyword_value(email);
    let mut out = Vec::new();
    if e.is_empty() {
        return out;
    }
    out.push(e.clone());
    if let Some((local, domain)) = e.rsplit_once('@') {
        if !local.is_empty() {
            out.push(local.to_string());
        }
        let mut d = domain;
        while d.contains('.') {
            out.push(d.to_string());
            match d.split_once('.') {
                Some((_, rest)) => d = rest,
                None => break,
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Tie-break key: the first eight bytes of the normalised display name.
fn order_key(display: &str) -> u64 {
    let n = tokenize::normalize(display);
    let mut b = [0u8; 8];
    for (i, x) in n.bytes().take(8).enumerate() {
        b[i] = x;
    }
    // lower keys rank first among equal scores
    u64::MAX - u64::from_be_bytes(b)
}

/// The text of a team field's value, as searched: its strings and dates
/// (`2025-01-01`), in arrays and tables too.
fn team_strings(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Datetime(d) => out.push(d.to_string()),
        toml::Value::Array(a) => a.iter().for_each(|x| team_strings(x, out)),
        toml::Value::Table(t) => t.values().for_each(|x| team_strings(x, out)),
        _ => {}
    }
}

/// The index document of a customer at `path`.
pub fn document(f: &Fields, path: &str, c: &Customer) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    let display = c.display_name();
    d.add_text(f.path, path);
    d.add_text(f.id, keyword_value(&c.id));
    d.add_text(f.display, &display);
    // id, owner, tier, stage as written (in this order; owner "" for none)
    for v in [
        c.id.as_str(),
        c.owner.as_deref().unwrap_or(""),
        c.tier.as_str(),
        c.stage.as_str(),
    ] {
        d.add_text(f.shown, v);
    }
    d.add_u64(f.order, order_key(&display));
    match c.owner.as_deref().filter(|o| !o.trim().is_empty()) {
        Some(o) => d.add_text(f.owner, keyword_value(o)),
        None => d.add_u64(f.pool, 1),
    }
    d.add_text(f.tier, keyword_value(&c.tier));
    d.add_text(f.stage, keyword_value(&c.stage));
    if let Some(k) = &c.kind {
        d.add_text(f.kind, keyword_value(k));
    }
    d.add_text(f.country, keyword_value(&c.country));

    // every text value, once, in a stable order: the stored lines
    let mut lines: Vec<String> = Vec::new();
    let mut line = |s: &str| {
        let s = s.trim();
        if !s.is_empty() && !lines.iter().any(|l| l == s) {
            lines.push(s.to_string());
        }
    };
    line(&c.name);
    for t in &c.titles {
        line(&t.name);
        if let Some(r) = &t.registration {
            line(r);
        }
    }
    if let Some(g) = &c.group {
        line(g);
    }
    line(&c.contact);
    for ct in &c.contacts {
        line(&ct.name);
        for v in [
            &ct.role,
            &ct.email,
            &ct.phone,
            &ct.whatsapp,
            &ct.wechat,
            &ct.linkedin,
        ]
        .into_iter()
        .flatten()
        {
            line(v);
        }
    }
    line(&c.id);
    line(&c.country);
    if let Some(o) = &c.owner {
        line(o);
    }
    for v in [&c.city, &c.address, &c.industry, &c.source, &c.website]
        .into_iter()
        .flatten()
    {
        line(v);
    }
    for t in &c.tags {
        line(t);
    }
    for v in [&c.lost_reason, &c.pool_reason, &c.payment_terms]
        .into_iter()
        .flatten()
    {
        line(v);
    }
    for i in &c.incoterms {
        line(i);
    }
    for fu in &c.followups {
        if let Some(s) = &fu.summary {
            line(s);
        }
    }
    for q in &c.quotes {
        for v in [&q.product, &q.incoterm].into_iter().flatten() {
            line(v);
        }
    }
    for o in &c.orders {
        for v in [&o.number, &o.payment].into_iter().flatten() {
            line(v);
        }
    }
    if let Some(cs) = &c.consent
        && let Some(p) = &cs.purpose
    {
        line(p);
    }
    // a team's own fields, and extra keys of nested tables
    let mut extra = Vec::new();
    for v in c.extra.values() {
        team_strings(v, &mut extra);
    }
    for ct in &c.contacts {
        ct.extra.values().for_each(|v| team_strings(v, &mut extra));
    }
    for fu in &c.followups {
        fu.extra.values().for_each(|v| team_strings(v, &mut extra));
    }
    for s in &extra {
        line(s);
    }
    for l in &lines {
        d.add_text(f.text, l);
    }

    d.add_text(f.name, &c.name);
    for t in &c.titles {
        d.add_text(f.name, &t.name);
    }
    d.add_text(f.contact, &c.contact);
    for ct in &c.contacts {
        if ct.name != c.contact {
            d.add_text(f.contact, &ct.name);
        }
    }
    for (field, v) in [
        (f.group, &c.group),
        (f.industry, &c.industry),
        (f.city, &c.city),
        (f.source, &c.source),
    ] {
        if let Some(v) = v {
            d.add_text(field, v);
        }
    }
    for t in &c.tags {
        d.add_text(f.tag, t);
    }
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    for ct in &c.contacts {
        if let Some(e) = &ct.email {
            emails.extend(email_terms(e));
        }
        for p in [&ct.phone, &ct.whatsapp].into_iter().flatten() {
            let d = tokenize::digits(p);
            if !d.is_empty() {
                phones.push(d);
            }
        }
    }
    emails.sort();
    emails.dedup();
    phones.sort();
    phones.dedup();
    for e in emails {
        d.add_text(f.email, e);
    }
    for p in phones {
        d.add_text(f.phone, p);
    }
    if let Some(x) = c.created {
        d.add_i64(f.created, day_number(x));
    }
    if let Some(x) = c.next_followup {
        d.add_i64(f.next_followup, day_number(x));
    }
    let mut days: Vec<i64> = c
        .followups
        .iter()
        .filter_map(|x| x.date.map(day_number))
        .collect();
    days.sort_unstable();
    days.dedup();
    for x in days {
        d.add_i64(f.followup, x);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{Acc, Fields as Table};

    /// Set every text field of `x` to `<table>.<field>`.
    fn label<T: Table>(x: &mut T, table: &str) {
        for f in T::FIELDS {
            let v = format!("{table}.{}", f.name);
            match f.acc {
                Acc::Req(_, m) => *m(x) = v,
                Acc::Str(_, m) => *m(x) = Some(v),
                Acc::List(_, m) => *m(x) = vec![v],
                _ => {}
            }
        }
    }

    /// Every text field of the field table is searched, but for those
    /// named here: a new built-in field must be decided on.
    #[test]
    fn the_text_fields_of_the_table_are_searched() {
        const NOT_SEARCHED: &[&str] = &[
            "customer.tier",
            "customer.type",
            "customer.stage",
            "quotes.currency",
            "quotes.status",
            "orders.currency",
            "followups.by",
            "followups.channel",
            "consent.basis",
        ];
        let mut c = crate::fields::full();
        label(&mut c, "customer");
        label(&mut c.titles[0], "titles");
        label(&mut c.contacts[0], "contacts");
        label(&mut c.quotes[0], "quotes");
        label(&mut c.orders[0], "orders");
        label(&mut c.followups[0], "followups");
        label(c.consent.as_mut().unwrap(), "consent");
        let (_, f) = Fields::schema();
        let d = document(&f, "x.toml", &c);
        use tantivy::schema::Value;
        let lines: Vec<&str> = d.get_all(f.text).filter_map(|v| v.as_str()).collect();
        let mut want: Vec<String> = Vec::new();
        fn labels<T: Table>(table: &str, out: &mut Vec<String>) {
            for f in T::FIELDS
                .iter()
                .filter(|f| matches!(f.acc, Acc::Req(..) | Acc::Str(..) | Acc::List(..)))
            {
                out.push(format!("{table}.{}", f.name));
            }
        }
        labels::<Customer>("customer", &mut want);
        labels::<crate::records::Title>("titles", &mut want);
        labels::<crate::records::Contact>("contacts", &mut want);
        labels::<crate::records::Quote>("quotes", &mut want);
        labels::<crate::records::Order>("orders", &mut want);
        labels::<crate::records::Followup>("followups", &mut want);
        labels::<crate::records::Consent>("consent", &mut want);
        want.retain(|l| !NOT_SEARCHED.contains(&l.as_str()));
        let mut got: Vec<&str> = lines.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn email_terms_include_domain_and_parents() {
        assert_eq!(
            email_terms("Ahmed.Hassan@Mail.Apex.Example"),
            [
                "ahmed.hassan",
                "ahmed.hassan@mail.apex.example",
                "apex.example",
                "mail.apex.example"
            ]
        );
        assert!(email_terms("  ").is_empty());
    }

    #[test]
    fn order_keys_sort_names() {
        assert!(order_key("Alpha") > order_key("Beta"));
    }
}
