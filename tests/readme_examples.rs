//! The README's Rust server example for durability is the doc test of
//! `Platform::open` (which the test command compiles and runs): this checks
//! that the README shows it exactly, hidden lines aside.

#[test]
fn the_readme_shows_the_open_doc_test_as_it_is() {
    let source = include_str!("../src/platform/durable.rs");
    let readme = include_str!("../README.md");
    let start = source
        .find("    /// ```\n    /// use std::sync::Arc;")
        .expect("the doc test of Platform::open");
    let body: Vec<&str> = source[start..]
        .lines()
        .skip(1)
        .map(|l| {
            l.trim_start()
                .trim_start_matches("///")
                .strip_prefix(' ')
                .unwrap_or("")
        })
        .take_while(|l| *l != "```")
        .filter(|l| !l.starts_with("# "))
        .collect();
    let shown = format!("```rust\n{}\n```", body.join("\n"));
    assert!(
        readme.contains(&shown),
        "README.md does not show the doc test of Platform::open as it is:\n{shown}"
    );
}
