//! Section 2 (`wsgiref.headers.Headers`, subsections 2.1 to 2.7) of
//! `wsgiref-behaviour.md`, example by example, against [`gateway::Headers`].
//!
//! Python's type errors (bytes, int or a `str` subclass where a `str` is expected, a list
//! subclass/tuple/dict instead of a list, 1- or 3-tuples instead of pairs) cannot be written in
//! Rust: the signatures take `&str`/`String` and `(name, value)` pairs, so they are not tested.

use gateway::{HeaderError, Headers};

/// `Headers([...])` from string literals; panics (failing the test) when rejected.
fn headers(pairs: &[(&str, &str)]) -> Headers {
    Headers::from_pairs(pairs.iter().copied()).expect("valid headers")
}

/// `[(name, value), ...]` as owned pairs, the shape `items()` returns.
fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// The example of 2.3, reused by 2.4.
fn example() -> Headers {
    headers(&[
        ("Content-Type", "text/html"),
        ("X-A", "1"),
        ("x-a", "2"),
        ("Set-Cookie", "a=1"),
    ])
}

// ---------------------------------------------------------------------------------------------
// 2.1 Construction
// ---------------------------------------------------------------------------------------------

#[test]
fn construction_empty() {
    // `Headers()` / `Headers(None)` -> empty.
    for (case, h) in [
        ("Headers::new()", Headers::new()),
        ("Headers::default()", Headers::default()),
        (
            "from_pairs([])",
            Headers::from_pairs(Vec::<(String, String)>::new()).unwrap(),
        ),
        ("try_from(vec![])", Headers::try_from(Vec::new()).unwrap()),
    ] {
        assert_eq!(h.len(), 0, "{case}");
        assert!(h.is_empty(), "{case}");
        assert!(h.items().is_empty(), "{case}");
        assert_eq!(h.iter().count(), 0, "{case}");
    }
}

#[test]
fn construction_from_pairs_and_try_from_keep_order_and_duplicates() {
    let pairs = [("Content-Type", "text/html"), ("X-A", "1"), ("x-a", "2")];
    let from_pairs = headers(&pairs);
    let try_from = Headers::try_from(owned(&pairs)).unwrap();
    for (case, h) in [("from_pairs", &from_pairs), ("try_from", &try_from)] {
        assert_eq!(h.len(), 3, "{case}");
        assert!(!h.is_empty(), "{case}");
        assert_eq!(h.items(), owned(&pairs), "{case}");
    }
    assert_eq!(from_pairs, try_from);
}

#[test]
fn construction_does_not_alias_the_callers_list_and_items_is_a_copy() {
    // The reference keeps (and mutates) the caller's list (quirk 4); in Rust the pairs are moved
    // into the Headers, so there is no caller-visible list to alias. `items()` is a copy in both.
    let mut h = headers(&[("a", "1")]);
    let mut copy = h.items();
    copy.push(("b".into(), "2".into()));
    copy[0].1 = "changed".into();
    assert_eq!(h.items(), owned(&[("a", "1")]));

    h.append("c", "3").unwrap();
    assert_eq!(copy, owned(&[("a", "changed"), ("b", "2")]));
    assert_eq!(h.items(), owned(&[("a", "1"), ("c", "3")]));
}

// ---------------------------------------------------------------------------------------------
// 2.2 Type check used by every operation
// ---------------------------------------------------------------------------------------------
// `Headers().get(b'a')` -> AssertionError: not expressible, `get` takes `&str` (see the crate
// doc). The control-character part of the check is tested under 2.7.

// ---------------------------------------------------------------------------------------------
// 2.3 Lookups (case-insensitive; comparison is `name.lower() == key.lower()`)
// ---------------------------------------------------------------------------------------------

#[test]
fn lookups_table() {
    struct Case {
        case: &'static str,
        name: &'static str,
        get: Option<&'static str>,
        get_all: &'static [&'static str],
    }
    const CASES: &[Case] = &[
        Case {
            case: "h.get('x-A') -> '1' (first match)",
            name: "x-A",
            get: Some("1"),
            get_all: &["1", "2"],
        },
        Case {
            case: "h.get_all('X-a') -> ['1', '2']",
            name: "X-a",
            get: Some("1"),
            get_all: &["1", "2"],
        },
        Case {
            case: "'CONTENT-TYPE' in h -> True",
            name: "CONTENT-TYPE",
            get: Some("text/html"),
            get_all: &["text/html"],
        },
        Case {
            case: "h.get('set-cookie')",
            name: "set-cookie",
            get: Some("a=1"),
            get_all: &["a=1"],
        },
        Case {
            case: "h['nope'] -> None (never KeyError); get_all -> []",
            name: "nope",
            get: None,
            get_all: &[],
        },
        Case {
            case: "no trimming or prefix match",
            name: "X-A ",
            get: None,
            get_all: &[],
        },
        Case {
            case: "prefix of a name is not a match",
            name: "X-",
            get: None,
            get_all: &[],
        },
    ];
    let h = example();
    for c in CASES {
        // `h[name]` is `get(name)`; `name in h` is `get(name) is not None`.
        assert_eq!(h.get(c.name), c.get, "get: {}", c.case);
        assert_eq!(h.contains(c.name), c.get.is_some(), "contains: {}", c.case);
        assert_eq!(h.get_all(c.name), c.get_all, "get_all: {}", c.case);
    }
}

#[test]
fn lookups_example_len_default_keys_values_items() {
    let h = example();
    assert_eq!(h.len(), 4, "len counts duplicates");
    // `h.get('nope', 'dflt')` -> 'dflt'.
    assert_eq!(h.get("nope").unwrap_or("dflt"), "dflt");
    assert_eq!(h.get("x-a").unwrap_or("dflt"), "1");
    assert_eq!(h.keys(), ["Content-Type", "X-A", "x-a", "Set-Cookie"]);
    assert_eq!(h.values(), ["text/html", "1", "2", "a=1"]);
    let pairs = [
        ("Content-Type", "text/html"),
        ("X-A", "1"),
        ("x-a", "2"),
        ("Set-Cookie", "a=1"),
    ];
    assert_eq!(h.items(), owned(&pairs));
    assert_eq!(h.iter().collect::<Vec<_>>(), pairs);
    assert_eq!((&h).into_iter().collect::<Vec<_>>(), pairs);
    assert_eq!(h.iter().len(), 4);
}

#[test]
fn lookups_empty_value_counts_as_present() {
    // `name in h` is `get(name) is not None`, so a header with value '' is present.
    let h = headers(&[("X-Empty", "")]);
    assert_eq!(h.get("x-empty"), Some(""));
    assert!(h.contains("X-EMPTY"));
    assert_eq!(h.get_all("x-Empty"), [""]);
}

#[test]
fn lookups_compare_unicode_lowercase() {
    // The comparison is `name.lower() == key.lower()`: Python's full Unicode lower-casing, so
    // latin-1 letters fold too, and a lookup key above U+00FF can match a stored latin-1 name
    // when it lower-cases to it (KELVIN SIGN -> 'k', ANGSTROM SIGN -> U+00E5).
    struct Case {
        case: &'static str,
        name: &'static str,
        get: Option<&'static str>,
    }
    const CASES: &[Case] = &[
        Case {
            case: "'X-CAF\\xc9'.lower() == 'x-caf\\xe9'",
            name: "X-CAF\u{c9}",
            get: Some("1"),
        },
        Case {
            case: "'x-caf\\xe9' itself",
            name: "x-caf\u{e9}",
            get: Some("1"),
        },
        Case {
            case: "'X-CAFE' without the accent does not match",
            name: "X-CAFE",
            get: None,
        },
        Case {
            case: "KELVIN SIGN '\\u212a'.lower() == 'k'",
            name: "\u{212a}",
            get: Some("2"),
        },
        Case {
            case: "ANGSTROM SIGN '\\u212b'.lower() == '\\xe5'",
            name: "\u{212b}",
            get: Some("3"),
        },
        Case {
            case: "'\\xc5' (A with ring) lower-cases to '\\xe5'",
            name: "\u{c5}",
            get: Some("3"),
        },
    ];
    let h = headers(&[("X-Caf\u{e9}", "1"), ("K", "2"), ("\u{e5}", "3")]);
    for c in CASES {
        assert_eq!(h.get(c.name), c.get, "get: {}", c.case);
        assert_eq!(h.contains(c.name), c.get.is_some(), "contains: {}", c.case);
        let all: Vec<&str> = c.get.into_iter().collect();
        assert_eq!(h.get_all(c.name), all, "get_all: {}", c.case);
        let mut removed = h.clone();
        let expected = usize::from(c.get.is_some());
        assert_eq!(removed.remove(c.name), expected, "remove: {}", c.case);
    }
}

// ---------------------------------------------------------------------------------------------
// 2.4 Mutation
// ---------------------------------------------------------------------------------------------

#[test]
fn set_deletes_all_matches_and_appends_at_the_end_with_the_new_spelling() {
    // Continuing the example: `h['x-A'] = '3'`.
    let mut h = example();
    h.set("x-A", "3").unwrap();
    assert_eq!(
        h.items(),
        owned(&[
            ("Content-Type", "text/html"),
            ("Set-Cookie", "a=1"),
            ("x-A", "3")
        ])
    );
    // Setting an absent name just appends.
    h.set("New", "n").unwrap();
    assert_eq!(h.keys(), ["Content-Type", "Set-Cookie", "x-A", "New"]);
}

#[test]
fn set_rejected_leaves_headers_unchanged() {
    // Reference quirk 4: `h['a'] = <rejected value>` on `[('a','1'),('b','2')]` deletes first,
    // then raises, leaving `[('b','2')]`. gateway validates first: nothing changes.
    // (The reference's `b'x'` trigger is a type error, impossible here; the control-character
    // and non-latin-1 triggers are the ones that remain.)
    struct Case {
        case: &'static str,
        name: &'static str,
        value: &'static str,
    }
    const CASES: &[Case] = &[
        Case {
            case: "h['a'] = 'x\\r\\ny' (control character in value)",
            name: "a",
            value: "x\r\ny",
        },
        Case {
            case: "h['a'] = '\\u20ac' (not latin-1)",
            name: "a",
            value: "\u{20ac}",
        },
        Case {
            case: "h['a\\n'] = 'x' (control character in name)",
            name: "a\n",
            value: "x",
        },
    ];
    for c in CASES {
        let mut h = headers(&[("a", "1"), ("b", "2")]);
        assert!(h.set(c.name, c.value).is_err(), "{}", c.case);
        assert_eq!(h.items(), owned(&[("a", "1"), ("b", "2")]), "{}", c.case);
    }
}

#[test]
fn remove_deletes_all_matches_and_absent_is_not_an_error() {
    let mut h = example();
    assert_eq!(h.remove("X-a"), 2, "del h['X-a'] removes both spellings");
    assert_eq!(h.keys(), ["Content-Type", "Set-Cookie"]);
    assert_eq!(h.remove("nope"), 0, "del h['nope'] is not an error");
    assert_eq!(h.remove("x-a"), 0, "already gone");
    assert_eq!(h.keys(), ["Content-Type", "Set-Cookie"]);
}

#[test]
fn setdefault_examples() {
    let mut h = example();
    // `setdefault('CONTENT-type','zzz')` -> 'text/html', no change.
    assert_eq!(h.setdefault("CONTENT-type", "zzz").unwrap(), "text/html");
    assert_eq!(h.len(), 4);
    // The first of several matches is returned.
    assert_eq!(h.setdefault("x-a", "zzz").unwrap(), "1");
    assert_eq!(h.len(), 4);
    // `setdefault('New','v')` -> 'v', appended at the end.
    assert_eq!(h.setdefault("New", "v").unwrap(), "v");
    assert_eq!(
        h.items(),
        owned(&[
            ("Content-Type", "text/html"),
            ("X-A", "1"),
            ("x-a", "2"),
            ("Set-Cookie", "a=1"),
            ("New", "v"),
        ])
    );
    // Now present: returned, not appended again.
    assert_eq!(h.setdefault("NEW", "other").unwrap(), "v");
    assert_eq!(h.len(), 5);
}

#[test]
fn setdefault_present_empty_value_and_unused_default() {
    // `get(name)` is '' (not None), so '' is returned and nothing is appended.
    let mut h = headers(&[("X-Empty", "")]);
    assert_eq!(h.setdefault("x-empty", "v").unwrap(), "");
    assert_eq!(h.len(), 1);
    // When the name is present the default is never stored, so it is never validated (the
    // reference only converts/checks `value` on the append branch).
    assert_eq!(h.setdefault("X-EMPTY", "bad\r\nvalue").unwrap(), "");
    assert_eq!(h.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 2.5 Formatting
// ---------------------------------------------------------------------------------------------

#[test]
fn display_and_to_bytes_table() {
    struct Case {
        case: &'static str,
        pairs: &'static [(&'static str, &'static str)],
        text: &'static str,
        bytes: &'static [u8],
    }
    const CASES: &[Case] = &[
        Case {
            case: "empty headers -> '\\r\\n'",
            pairs: &[],
            text: "\r\n",
            bytes: b"\r\n",
        },
        Case {
            case: "the 2.5 example",
            pairs: &[("Content-Type", "text/html"), ("X-A", "1")],
            text: "Content-Type: text/html\r\nX-A: 1\r\n\r\n",
            bytes: b"Content-Type: text/html\r\nX-A: 1\r\n\r\n",
        },
        Case {
            case: "duplicates and original case kept",
            pairs: &[("X-A", "1"), ("x-a", "2")],
            text: "X-A: 1\r\nx-a: 2\r\n\r\n",
            bytes: b"X-A: 1\r\nx-a: 2\r\n\r\n",
        },
        Case {
            case: "empty value",
            pairs: &[("X", "")],
            text: "X: \r\n\r\n",
            bytes: b"X: \r\n\r\n",
        },
        Case {
            case: "'\\xe9' -> byte 0xE9 (ISO-8859-1, not UTF-8)",
            pairs: &[("X-Caf\u{e9}", "caf\u{e9}")],
            text: "X-Caf\u{e9}: caf\u{e9}\r\n\r\n",
            bytes: b"X-Caf\xe9: caf\xe9\r\n\r\n",
        },
        Case {
            case: "U+0080 and U+00FF are the bytes 0x80 and 0xFF",
            pairs: &[("X", "\u{80}\u{ff}")],
            text: "X: \u{80}\u{ff}\r\n\r\n",
            bytes: b"X: \x80\xff\r\n\r\n",
        },
        Case {
            case: "TAB in a value is emitted as is",
            pairs: &[("X", "a\tb")],
            text: "X: a\tb\r\n\r\n",
            bytes: b"X: a\tb\r\n\r\n",
        },
    ];
    for c in CASES {
        let h = headers(c.pairs);
        assert_eq!(h.to_string(), c.text, "Display: {}", c.case);
        assert_eq!(h.to_bytes(), c.bytes, "to_bytes: {}", c.case);
        let mut out = b"prefix".to_vec();
        h.write_to(&mut out);
        assert_eq!(&out[..6], b"prefix", "write_to: {}", c.case);
        assert_eq!(&out[6..], c.bytes, "write_to: {}", c.case);
    }
}

#[test]
fn above_latin1_is_rejected_on_the_way_in_not_when_formatting() {
    // Reference: `bytes(h)` raises UnicodeEncodeError for a character above U+00FF. gateway
    // rejects the character when it is inserted (HeaderError::NotLatin1), so `to_bytes()` is
    // infallible.
    let euro = "\u{20ac}";
    let mut h = headers(&[("X", "1")]);
    let attempts: [(&str, Result<(), HeaderError>); 7] = [
        (
            "from_pairs value",
            Headers::from_pairs([("X", euro)]).map(drop),
        ),
        (
            "from_pairs name",
            Headers::from_pairs([(euro, "v")]).map(drop),
        ),
        (
            "try_from value",
            Headers::try_from(owned(&[("X", euro)])).map(drop),
        ),
        ("set value", h.set("X", euro)),
        ("append name", h.append(euro, "v")),
        ("setdefault value", h.setdefault("Y", euro).map(drop)),
        (
            "add_header parameter value",
            h.add_header("Y", Some("v"), &[("p", Some(euro))]),
        ),
    ];
    for (case, result) in attempts {
        match result {
            Err(err @ HeaderError::NotLatin1 { .. }) => {
                assert!(err.to_string().contains("U+20AC"), "{case}: {err}");
            }
            other => panic!("{case}: expected NotLatin1, got {other:?}"),
        }
    }
    assert_eq!(h.items(), owned(&[("X", "1")]));
    assert_eq!(h.to_bytes(), b"X: 1\r\n\r\n");
}

#[test]
fn debug_shows_the_pairs() {
    // `repr(h)` is `Headers([('a', 'b'), ...])`; Debug only has to show the pairs.
    let h = headers(&[("a", "b"), ("Content-Type", "text/html")]);
    let debug = format!("{h:?}");
    assert!(debug.contains("Headers"), "{debug}");
    for part in ["\"a\"", "\"b\"", "\"Content-Type\"", "\"text/html\""] {
        assert!(debug.contains(part), "{part} missing from {debug}");
    }
    assert!(
        debug.find("\"a\"") < debug.find("\"Content-Type\""),
        "{debug}"
    );
}

// ---------------------------------------------------------------------------------------------
// 2.6 add_header(_name, _value, **params)
// ---------------------------------------------------------------------------------------------

#[test]
fn add_header_table() {
    struct Case {
        call: &'static str,
        name: &'static str,
        value: Option<&'static str>,
        params: &'static [(&'static str, Option<&'static str>)],
        stored: &'static str,
    }
    const CASES: &[Case] = &[
        Case {
            call: "add_header('content-disposition','attachment', filename='bud.gif')",
            name: "content-disposition",
            value: Some("attachment"),
            params: &[("filename", Some("bud.gif"))],
            stored: r#"attachment; filename="bud.gif""#,
        },
        Case {
            call: "add_header('X','v', foo_bar='baz')",
            name: "X",
            value: Some("v"),
            params: &[("foo_bar", Some("baz"))],
            stored: r#"v; foo-bar="baz""#,
        },
        Case {
            call: "add_header('X','v', cheese=None)",
            name: "X",
            value: Some("v"),
            params: &[("cheese", None)],
            stored: "v; cheese",
        },
        Case {
            call: "add_header('X','v', a='')",
            name: "X",
            value: Some("v"),
            params: &[("a", Some(""))],
            stored: "v; a",
        },
        Case {
            call: "add_header('X', None, a='1')",
            name: "X",
            value: None,
            params: &[("a", Some("1"))],
            stored: r#"a="1""#,
        },
        Case {
            call: "add_header('X', None)",
            name: "X",
            value: None,
            params: &[],
            stored: "",
        },
        Case {
            call: "add_header('X', '', a='1')",
            name: "X",
            value: Some(""),
            params: &[("a", Some("1"))],
            stored: r#"; a="1""#,
        },
        Case {
            call: r#"add_header('X','v', a='x"y\\z')"#,
            name: "X",
            value: Some("v"),
            params: &[("a", Some(r#"x"y\z"#))],
            stored: r#"v; a="x\"y\\z""#,
        },
        Case {
            call: "add_header('X','v', a='1', b=None, c_d='e f')",
            name: "X",
            value: Some("v"),
            params: &[("a", Some("1")), ("b", None), ("c_d", Some("e f"))],
            stored: r#"v; a="1"; b; c-d="e f""#,
        },
        Case {
            call: "add_header('X','v', z='1', a='2', m='3') (call order kept)",
            name: "X",
            value: Some("v"),
            params: &[("z", Some("1")), ("a", Some("2")), ("m", Some("3"))],
            stored: r#"v; z="1"; a="2"; m="3""#,
        },
        Case {
            call: "add_header('X','v', a='b;c=d') (always quoted, even without specials)",
            name: "X",
            value: Some("v"),
            params: &[("a", Some("b;c=d")), ("plain", Some("token"))],
            stored: r#"v; a="b;c=d"; plain="token""#,
        },
        Case {
            call: "add_header('X_Y','v', p_q='1') (underscores in _name stay)",
            name: "X_Y",
            value: Some("v"),
            params: &[("p_q", Some("1"))],
            stored: r#"v; p-q="1""#,
        },
        // `bytes / int for value or any param value -> AssertionError`: not expressible, the
        // value and parameter values are `Option<&str>`.
    ];
    for c in CASES {
        // Appends, never replaces: an existing header of the same name stays first.
        let mut h = headers(&[(c.name, "old")]);
        h.add_header(c.name, c.value, c.params)
            .unwrap_or_else(|e| panic!("{}: {e}", c.call));
        assert_eq!(h.len(), 2, "{}", c.call);
        assert_eq!(h.get_all(c.name), ["old", c.stored], "{}", c.call);
        assert_eq!(
            h.iter().next_back(),
            Some((c.name, c.stored)),
            "name kept as given: {}",
            c.call
        );
    }
}

#[test]
fn add_header_test_wsgiref_sequence() {
    let mut h = Headers::new();
    h.add_header("foo", Some("bar"), &[("baz", Some("spam"))])
        .unwrap();
    assert_eq!(h.get("foo"), Some(r#"bar; baz="spam""#));
    assert_eq!(h.to_string(), "foo: bar; baz=\"spam\"\r\n\r\n");

    h.add_header("Foo", Some("bar"), &[("cheese", None)])
        .unwrap();
    assert_eq!(h.get_all("foo"), [r#"bar; baz="spam""#, "bar; cheese"]);
    assert_eq!(
        h.to_string(),
        "foo: bar; baz=\"spam\"\r\nFoo: bar; cheese\r\n\r\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 2.7 Control-character validation
// ---------------------------------------------------------------------------------------------

/// U+0000..=U+001F and U+007F.
fn control_characters() -> impl Iterator<Item = char> {
    (0u8..=0x1f).chain([0x7f]).map(char::from)
}

#[test]
fn control_characters_in_names_are_rejected_everywhere_tab_included() {
    for c in control_characters() {
        let name = format!("a{c}b");
        let case = format!("name {name:?}");
        let mut h = headers(&[("keep", "1")]);
        let results = [
            (
                "from_pairs",
                Headers::from_pairs([(name.as_str(), "v")]).map(drop),
            ),
            (
                "try_from",
                Headers::try_from(vec![(name.clone(), "v".to_owned())]).map(drop),
            ),
            ("set", h.set(name.as_str(), "v")),
            ("append", h.append(name.as_str(), "v")),
            ("setdefault", h.setdefault(&name, "v").map(drop)),
            (
                "add_header name",
                h.add_header(name.as_str(), Some("v"), &[]),
            ),
            (
                "add_header parameter name",
                h.add_header("X", Some("v"), &[(name.as_str(), Some("1"))]),
            ),
        ];
        for (op, result) in results {
            match result {
                Err(err @ HeaderError::ControlCharacterInName { .. }) => {
                    assert!(
                        err.to_string().contains("header name"),
                        "{op} {case}: {err}"
                    );
                }
                other => panic!("{op} {case}: expected ControlCharacterInName, got {other:?}"),
            }
        }
        assert_eq!(h.items(), owned(&[("keep", "1")]), "{case}");
    }
}

#[test]
fn control_characters_in_values_are_rejected_except_tab() {
    for c in control_characters() {
        let value = format!("b{c}c");
        let case = format!("value {value:?}");
        let mut h = Headers::new();
        let results = [
            (
                "from_pairs",
                Headers::from_pairs([("X-Name", value.as_str())]).map(drop),
            ),
            (
                "try_from",
                Headers::try_from(vec![("X-Name".to_owned(), value.clone())]).map(drop),
            ),
            ("set", h.set("X-Name", value.as_str())),
            ("append", h.append("X-Name", value.as_str())),
            (
                "setdefault",
                h.setdefault("X-Name", value.as_str()).map(drop),
            ),
            (
                "add_header value",
                h.add_header("X-Name", Some(&value), &[]),
            ),
            (
                "add_header parameter value",
                h.add_header("X-Name", Some("v"), &[("p", Some(&value))]),
            ),
        ];
        for (op, result) in results {
            if c == '\t' {
                assert_eq!(result, Ok(()), "{op} {case}: TAB is allowed in values");
                continue;
            }
            match result {
                Err(err @ HeaderError::ControlCharacterInValue { .. }) => {
                    assert!(err.to_string().contains("\"X-Name\""), "{op} {case}: {err}");
                }
                other => panic!("{op} {case}: expected ControlCharacterInValue, got {other:?}"),
            }
        }
        if c == '\t' {
            // set, append, setdefault (already present: returns the first), and two add_headers.
            assert_eq!(
                h.get_all("x-name"),
                ["b\tc", "b\tc", "b\tc", "v; p=\"b\tc\""],
                "{case}"
            );
        } else {
            assert!(h.is_empty(), "{case}");
        }
    }
}

#[test]
fn what_the_control_character_rule_does_not_reject() {
    // Characters >= U+0080, spaces and colons in names are not rejected.
    let cases: &[(&str, &str, &str)] = &[
        ("space in a name", "X Y", "v"),
        ("colon in a name", "X:Y", "v"),
        ("U+0080 in a name", "X\u{80}", "v"),
        ("U+00FF in a name", "X\u{ff}", "v"),
        (
            "U+0080 and U+009F (C1 controls) in a value",
            "X",
            "\u{80}\u{9f}",
        ),
        ("U+00A0 and U+00FF in a value", "X", "\u{a0}\u{ff}"),
        ("spaces and colons in a value", "X", " a: b "),
        ("empty name", "", "v"),
    ];
    for &(case, name, value) in cases {
        let h = Headers::from_pairs([(name, value)]).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(h.get(name), Some(value), "{case}");
        let mut h = Headers::new();
        h.set(name, value).unwrap_or_else(|e| panic!("{case}: {e}"));
        h.add_header(name, Some(value), &[(name, Some(value))])
            .unwrap_or_else(|e| panic!("{case}: {e}"));
    }
}

#[test]
fn control_character_examples() {
    // `Headers([('a','b\r\nc')])` -> ValueError.
    let err = Headers::from_pairs([("a", "b\r\nc")]).unwrap_err();
    assert!(
        matches!(&err, HeaderError::ControlCharacterInValue { name, character: '\r', .. } if name == "a"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("\"a\""),
        "Display names the header: {err}"
    );

    // `Headers([('a','b\tc')])` ok.
    let h = Headers::from_pairs([("a", "b\tc")]).unwrap();
    assert_eq!(h.get("a"), Some("b\tc"));

    // `Headers([('a\tb','c')])` -> ValueError.
    let err = Headers::from_pairs([("a\tb", "c")]).unwrap_err();
    assert!(
        matches!(&err, HeaderError::ControlCharacterInName { name, character: '\t' } if name == "a\tb"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("a\\tb"),
        "Display names the header: {err}"
    );

    // `add_header('a','b', p='v\tw')` -> `b; p="v\tw"`.
    let mut h = Headers::new();
    h.add_header("a", Some("b"), &[("p", Some("v\tw"))])
        .unwrap();
    assert_eq!(h.get("a"), Some("b; p=\"v\tw\""));

    // `add_header('a','b', p='v\nw')` -> ValueError; nothing appended.
    let err = h
        .add_header("a", Some("b"), &[("p", Some("v\nw"))])
        .unwrap_err();
    assert!(
        matches!(
            &err,
            HeaderError::ControlCharacterInValue {
                character: '\n',
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("\"a\""),
        "Display names the header: {err}"
    );
    assert_eq!(h.len(), 1);
}

#[test]
fn lookups_with_a_control_character_never_match() {
    // Reference: `Headers().get('a\n')` (and get_all/del/in/[] with such a name) raises
    // ValueError. gateway returns "not found": an invalid name can never be stored, so it can
    // never match.
    let h = headers(&[("a", "1"), ("A", "2")]);
    for name in ["a\n", "a\r\n", "\na", "a\0", "a\t", "a\x7f"] {
        let mut copy = h.clone();
        assert_eq!(Headers::new().get(name), None, "empty get {name:?}");
        assert_eq!(h.get(name), None, "get {name:?}");
        assert!(!h.contains(name), "contains {name:?}");
        assert!(h.get_all(name).is_empty(), "get_all {name:?}");
        assert_eq!(copy.remove(name), 0, "remove {name:?}");
        assert_eq!(copy, h, "remove {name:?}");
    }
}

#[test]
fn constructor_always_validates_no_python_o_gap() {
    // Reference: under `python -O` the constructor skips its check, so
    // `bytes(Headers([('Foo','bar\r\nSet-Cookie: evil=1')]))` yields the injected line
    // (gh-150726). gateway validates in every build.
    let injected = "bar\r\nSet-Cookie: evil=1";
    let err = Headers::from_pairs([("Foo", injected)]).unwrap_err();
    assert!(
        matches!(&err, HeaderError::ControlCharacterInValue { name, value, character: '\r' }
            if name == "Foo" && value == injected),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"Foo\""), "{err}");

    let err = Headers::try_from(owned(&[("Ok", "1"), ("Foo", injected)])).unwrap_err();
    assert!(
        matches!(&err, HeaderError::ControlCharacterInValue { name, .. } if name == "Foo"),
        "{err:?}"
    );
}
