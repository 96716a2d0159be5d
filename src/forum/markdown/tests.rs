//! The renderer's and sanitizer's tests, and their property tests.

mod plain_text_tests {
    use super::super::plain_text;

    #[test]
    fn remote_html_becomes_text() {
        assert_eq!(
            plain_text("<p>Lounge &amp; recreation</p>\n<hr />\n<p>Welcome <script>x()</script><b>all</b> &lt;3</p>"),
            "Lounge & recreation\n\nWelcome all <3"
        );
    }
}

mod rendering {
    use super::super::*;

    #[test]
    fn tables_autolinks_and_footnotes_render() {
        let html = render(
            "| a | b |\n|---|--:|\n| 1 | 2 |\n\nSee https://example.org/paper and note[^1].\n\n[^1]: Smith (2020).\n",
            "p7-",
        );
        assert!(html.contains("<table tabindex=\"0\">"), "{html}");
        assert!(html.contains("<td align=\"right\">2</td>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org/paper\" rel=\"nofollow ugc noopener\">"),
            "{html}"
        );
        assert!(html.contains("href=\"#p7-fn-1\""), "{html}");
        assert!(html.contains("id=\"p7-fn-1\""), "{html}");
        assert!(html.contains("<section class=\"footnotes\">"), "{html}");
    }

    #[test]
    fn raw_html_and_scripts_never_run() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) <b onclick=\"x()\">b</b>",
            "p1-",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        // Handlers survive only as escaped text, never inside a tag.
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;b onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<b"), "{html}");
        // Escaped, so the reader still sees what was typed.
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn sanitize_cleans_hostile_html() {
        let html = sanitize(
            "<p onclick=\"x()\">hi <a href=\"javascript:alert(1)\">l</a><iframe src=\"https://e\"></iframe></p>",
            "p2-",
        );
        assert_eq!(html, "<p>hi <a rel=\"nofollow ugc noopener\">l</a></p>");
    }

    #[test]
    fn images_become_links_that_load_nothing() {
        let html = render(
            "![A number line](https://pics.example/line.png) and ![](http://pics.example/x.png?a=1&b=2) and ![t](data:image/png;base64,AAAA)",
            "p1-",
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<a href=\"https://pics.example/line.png\" rel=\"nofollow ugc noopener\">[image: A number line]</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"http://pics.example/x.png?a=1&amp;b=2\" rel=\"nofollow ugc noopener\">[image: http://pics.example/x.png?a=1&amp;b=2]</a>"),
            "{html}"
        );
        assert!(html.contains(" and t</p>"), "{html}");
        let linked = render(
            "[![Chart](https://pics.example/c.png)](https://data.example/)",
            "p1-",
        );
        assert_eq!(
            linked,
            "<p><a href=\"https://data.example/\" rel=\"nofollow ugc noopener\">Chart</a></p>\n"
        );
        let remote = sanitize(
            "<p><img src=\"https://tracker.example/pixel.gif\" alt=\"\\\" onerror=x\" width=1></p>",
            "p1-",
        );
        assert!(!remote.contains("<img"), "{remote}");
        assert!(
            remote.contains("href=\"https://tracker.example/pixel.gif\""),
            "{remote}"
        );
    }

    #[test]
    fn headings_move_below_the_page_headings() {
        let html = render("# Big\n\n#### Small\n\n###### Tiny", "p1-");
        assert!(html.contains("<h3>Big</h3>"), "{html}");
        assert!(html.contains("<h6>Small</h6>"), "{html}");
        assert!(html.contains("<h6>Tiny</h6>"), "{html}");
    }

    #[test]
    fn quotes_name_the_author_and_prefix_every_line() {
        assert_eq!(
            quote(
                "Ms Rivera",
                "https://school.example/p/7",
                "First line\n\nSecond"
            ),
            "> [Ms Rivera wrote](https://school.example/p/7):\n>\n> First line\n>\n> Second\n\n"
        );
        // Brackets in a name cannot break the link.
        assert!(quote("A [b]", "/p/1", "x").starts_with("> [A b wrote](/p/1):"));
    }

    #[test]
    fn quoted_links_are_those_inside_block_quotes() {
        let html = render(
            "See [this](https://a.example/x).\n\n> [Bo wrote](https://s.example/p/3):\n>\n> > [deeper](/t/4)\n\nAfter [that](/p/9).",
            "p1-",
        );
        assert_eq!(
            quoted_links(&html, 10),
            vec!["https://s.example/p/3".to_string(), "/t/4".to_string()]
        );
        assert_eq!(quoted_links(&html, 1).len(), 1);
    }

    #[test]
    fn mentions_are_found_in_prose_only() {
        let found = mentions(
            "Hi @alice and @Bob@School.Example:8080, not `@code` nor [@link](/x) nor \
             bob@example.org; @carol. @alice again, @-dash, *@em* and @dots.. end",
        );
        let written: Vec<String> = found.iter().map(|h| h.written()).collect();
        assert_eq!(
            written,
            vec![
                "@alice",
                "@Bob@school.example:8080",
                "@carol",
                "@em",
                "@dots"
            ]
        );
    }

    #[test]
    fn known_mentions_become_links_and_the_rest_stay_text() {
        let mut links = MentionLinks::new();
        links.insert(
            Handle {
                name: "alice".into(),
                domain: None,
            },
            "https://s.example/u/alice".into(),
        );
        let html = render_linked("Thanks @alice, and @nobody.\n\n**@alice**", "p1-", &links);
        assert_eq!(
            html.matches(
                "<a href=\"https://s.example/u/alice\" rel=\"nofollow ugc noopener\">@alice</a>"
            )
            .count(),
            2,
            "{html}"
        );
        assert!(html.contains(", and @nobody."), "{html}");
    }
}

mod nesting_tests {
    use super::super::*;

    /// The body limit's default (`limits.body_max_bytes`).
    const LIMIT: usize = 65536;

    #[test]
    fn every_nesting_shape_at_the_body_limit_renders_shallow_on_a_small_stack() {
        // The caller's stack does not matter: render on a thread with far less than tokio's
        // 2 MiB, which one level of comrak's recursion per byte would overflow at once.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                for (shape, input) in nesting_shapes(LIMIT) {
                    assert!(input.len() <= LIMIT, "{shape}: {}", input.len());
                    let html = render(&input, "p1-");
                    let depth = depth_of(&html);
                    assert!(depth <= MAX_HTML_DEPTH, "{shape}: nested {depth} deep");
                    assert!(!html.is_empty(), "{shape}: nothing rendered");
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn deep_content_is_flattened_to_text_not_dropped() {
        let html = render(&format!("{}deepest words", "> ".repeat(200)), "p1-");
        assert!(html.contains("deepest words"), "{html}");
        assert_eq!(html.matches("<blockquote>").count(), MAX_DEPTH, "{html}");
        // The markers past the limit show as text.
        assert!(html.contains("&gt; &gt;"), "{html}");
        let html = render(
            &format!("{}deep{}", "*a ".repeat(100), " a*".repeat(100)),
            "p1-",
        );
        assert!(html.contains("deep"), "{html}");
        assert!(depth_of(&html) <= MAX_DEPTH + 2, "{html}");
        // Ordinary nesting is left alone.
        let html = render("> - a\n>   - b\n>\n> > *c **d***", "p1-");
        assert_eq!(
            html,
            "<blockquote>\n<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>\n<blockquote>\n<p><em>c <strong>d</strong></em></p>\n</blockquote>\n</blockquote>\n"
        );
    }

    #[test]
    fn one_footnote_is_linked_a_bounded_number_of_times() {
        let input = format!("{}\n\n[^a]: The note.", "See[^a] ".repeat(40));
        let html = render(&input, "p1-");
        assert_eq!(
            html.matches("id=\"p1-fnref-a").count(),
            MAX_FOOTNOTE_REFERENCES as usize,
            "{html}"
        );
        assert_eq!(
            html.matches("[^a]").count(),
            40 - MAX_FOOTNOTE_REFERENCES as usize
        );
        assert!(html.contains("The note."), "{html}");
        // At the body limit, the HTML stays within a small multiple of the Markdown.
        for (shape, input) in nesting_shapes(LIMIT) {
            let html = render(&input, "p1-");
            assert!(html.len() <= 8 * LIMIT, "{shape}: {} bytes", html.len());
        }
    }

    #[test]
    fn block_markers_past_the_limit_are_escaped() {
        assert_eq!(limit_block_markers("> > a\n- b"), "> > a\n- b");
        let deep = format!("{}x\n", "> ".repeat(MAX_DEPTH + 3));
        let limited = limit_block_markers(&deep);
        assert_eq!(limited, format!("{}\\> > > x\n", "> ".repeat(MAX_DEPTH)));
        let lists = format!("{}x", "1. ".repeat(MAX_DEPTH + 1));
        assert_eq!(
            limit_block_markers(&lists),
            format!("{}\\1. x", "1. ".repeat(MAX_DEPTH))
        );
        // Not markers: `-x`, `1.x`, text.
        let plain = format!("{}x", "-x ".repeat(100));
        assert_eq!(limit_block_markers(&plain), plain);
    }

    #[test]
    fn remote_html_nesting_is_bounded_and_text_kept() {
        for (shape, input) in [
            ("div", "<div>".repeat(13000) + "words"),
            ("b", "<b>".repeat(20000) + "words"),
            ("blockquote", "<blockquote>".repeat(5000) + "words"),
            ("lists", "<ul><li>".repeat(8000) + "words"),
            ("tables", "<table><tr><td>".repeat(4000) + "words"),
            ("links", "<a href=x>".repeat(6000) + "words"),
            (
                "reopened formatting",
                "<div><b class=x>a</div>".repeat(2500) + "words",
            ),
            ("unmatched end tags", "<div></x>".repeat(7000) + "words"),
            (
                "closed as it goes",
                "<div><p>x</div>".repeat(4000) + "words",
            ),
        ] {
            assert!(input.len() <= LIMIT + 10, "{shape}");
            let html = sanitize(&input, "p1-");
            assert!(
                depth_of(&html) <= MAX_HTML_DEPTH,
                "{shape}: {}",
                depth_of(&html)
            );
            assert!(html.contains("words"), "{shape}");
        }
        // Comments, quoted `>` and void elements do not confuse the count.
        assert_eq!(
            limit_html_nesting("<p title=\"a>b\"><!-- <div> --><br><img src=x>t</p>", 1),
            "<p title=\"a>b\"><!-- <div> --><br><img src=x>t</p>"
        );
        assert_eq!(
            limit_html_nesting("<b><i><u>t</u></i></b>", 2),
            "<b><i>t</i></b>"
        );
        // Found by the property test: tables in tables, with stray end tags between.
        let found = "<div><table><tr><td><div><div><div><div></script>--><table><tr><td><table><tr><td></script><div>--><p><div><p><div></p><b><p><table><tr><td><script><div></script></script><ul><li>--><ul><li><table><tr><td><table><tr><td>";
        let html = sanitize(&found.repeat(20), "p1-");
        assert!(depth_of(&html) <= MAX_HTML_DEPTH, "{}", depth_of(&html));
    }
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    /// Markdown made of the characters that build structure, and some words.
    fn markdown() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just(">"),
                Just("> "),
                Just("- "),
                Just("1. "),
                Just("*"),
                Just("**"),
                Just("_"),
                Just("~~"),
                Just("["),
                Just("]"),
                Just("(u)"),
                Just("!["),
                Just("[^a]"),
                Just("[^a]: "),
                Just("|"),
                Just("---"),
                Just("`"),
                Just("```"),
                Just("\n"),
                Just("    "),
                Just("<div>"),
                Just("</div>"),
                Just("&amp;"),
                Just("\\"),
                Just("word "),
                Just("https://e.example/x "),
                Just("\u{202e}"),
                Just("\0"),
            ],
            0..400,
        )
        .prop_map(|parts| parts.concat())
    }

    /// HTML made of tags that nest, close, mismatch and carry attributes.
    fn html() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("<div>"),
                Just("</div>"),
                Just("<p>"),
                Just("</p>"),
                Just("<b>"),
                Just("</b>"),
                Just("<ul><li>"),
                Just("</li>"),
                Just("<table><tr><td>"),
                Just("<a href=\"javascript:alert(1)\">"),
                Just("</a>"),
                Just("<img src=x onerror=y>"),
                Just("<script>"),
                Just("</script>"),
                Just("<!--"),
                Just("-->"),
                Just("<"),
                Just(">"),
                Just("\""),
                Just("text "),
                Just("<br/>"),
                Just("</x>"),
            ],
            0..400,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        // Failures are not written to a file in the tree: a case found is made a unit test.
        #![proptest_config(ProptestConfig {
            // PROPTEST_CASES sets a longer run (the README says how).
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn markdown_always_renders_safe_and_shallow(input in markdown()) {
            let html = render(&input, "p1-");
            prop_assert!(depth_of(&html) <= MAX_HTML_DEPTH);
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("<div"));
        }

        #[test]
        fn remote_html_always_sanitizes_safe_and_shallow(input in html()) {
            let html = sanitize(&input, "p1-");
            prop_assert!(depth_of(&html) <= MAX_HTML_DEPTH);
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("javascript:"));
            prop_assert!(!html.contains("onerror"));
        }
    }
}
