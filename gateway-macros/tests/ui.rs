//! `#[wsgi_app]` compile tests (trybuild): every supported form in `tests/ui/pass/` compiles,
//! and every mistake in `tests/ui/fail/` is refused with the message beside it (`.stderr`).
//! Refresh the messages after an intended change with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
