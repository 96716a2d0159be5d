//! Hostile input for tests: every way Markdown nests.

/// Every way Markdown nests, each as deep as `limit` bytes allow: block quotes, lists, emphasis,
/// strong, strikethrough, links, images, footnotes, tables and raw HTML. Hostile input for the
/// tests (the renderer's own, and the integration tests that post each shape every way a post
/// comes in); not used by the server.
pub fn nesting_shapes(limit: usize) -> Vec<(&'static str, String)> {
    let rep = |s: &str, n: usize| s.repeat(n);
    let n = |unit: usize| limit / unit - 2;
    vec![
        ("block quotes", format!("{} x", rep(">", n(1)))),
        ("spaced block quotes", format!("{}x", rep("> ", n(2)))),
        (
            "block quotes then lazy lines",
            format!("{}x\n{}", rep(">", n(2)), rep("x\n", n(4))),
        ),
        ("bullet lists", format!("{}x", rep("- ", n(2)))),
        ("ordered lists", format!("{}x", rep("1. ", n(3)))),
        (
            "indented lists",
            (0..250)
                .map(|i| format!("{}- x\n", " ".repeat(2 * i)))
                .collect(),
        ),
        ("quoted lists", format!("{}x", rep("> - ", n(4)))),
        ("emphasis", format!("{}x{}", rep("*", n(2)), rep("*", n(2)))),
        (
            "underscores",
            format!("{}x{}", rep("_", n(2)), rep("_", n(2))),
        ),
        ("strong", format!("{}x{}", rep("**", n(4)), rep("**", n(4)))),
        (
            "spaced emphasis",
            format!("{}x{}", rep("*a ", n(6)), rep(" a*", n(6))),
        ),
        (
            "strikethrough",
            format!("{}x{}", rep("~~", n(4)), rep("~~", n(4))),
        ),
        ("links", format!("{}x{}", rep("[", n(5)), rep("](u)", n(5)))),
        (
            "images",
            format!("{}x{}", rep("![", n(6)), rep("](u)", n(6))),
        ),
        (
            "images in links",
            format!("{}x{}", rep("[![", n(11)), rep("](u)](v)", n(11))),
        ),
        ("open brackets", rep("[", n(1))),
        ("open images", rep("![", n(2))),
        ("footnotes", format!("a[^a]\n\n{}x", rep("[^a]: ", n(6)))),
        (
            "footnote references",
            format!("{}\n\n[^a]: x", rep("[^a]", n(4) - 3)),
        ),
        (
            "tables",
            format!("| a |\n|---|\n| {}x{} |\n", rep("*", n(3)), rep("*", n(3))),
        ),
        ("html", rep("<div>", n(5))),
        ("backticks", format!("{}x", rep("`", n(1)))),
    ]
}
