//! The fixtures are what syncall writes: PyYAML 5.3.1's `yaml.dump(…, default_flow_style=False)`
//! of a `bidict` 0.21.4 (the versions syncall pins), and `newer-bidict.yaml` of a `bidict`
//! 0.23 (PyYAML 6).

use super::*;

const PERSONAL: &str = include_str!("fixtures/personal.yaml");
const WORK: &str = include_str!("fixtures/work.yaml");
const EMPTY: &str = include_str!("fixtures/empty.yaml");
const NEWER: &str = include_str!("fixtures/newer-bidict.yaml");
const CONFIGS: &str = include_str!("fixtures/tw_caldav_configs.yaml");

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("fixture written");
    }
    dir
}

fn pair(n: u8, caldav_uid: &str) -> SyncallLink {
    SyncallLink {
        uuid: format!("0a1b2c3d-1111-4aaa-8bbb-00000000000{n}"),
        caldav_uid: caldav_uid.into(),
    }
}

fn malformed(text: &str) -> String {
    let dir = dir_with(&[("Personal__None__None__sync.yaml", text)]);
    let err = read_correlations(dir.path()).expect_err("malformed");
    assert!(
        matches!(
            err,
            SyncallError::Malformed { .. } | SyncallError::Yaml { .. }
        ),
        "{err:?}"
    );
    let said = err.to_string();
    assert!(said.contains("Personal__None__None__sync.yaml"), "{said}");
    said
}

#[test]
fn every_combination_s_pairs_are_read_once_each() {
    let dir = dir_with(&[
        ("Personal__None__None__sync.yaml", PERSONAL),
        ("Work__None__work__None.yaml", WORK),
        ("Inbox__None__None__None.yaml", EMPTY),
        ("newer.yml", NEWER),
        ("tw_caldav_configs.yaml", CONFIGS),
    ]);
    let long = format!(
        "a very long caldav uid with spaces that goes on and on and on well past eighty \
         columns and beyond {}",
        "x".repeat(60)
    );
    assert_eq!(
        read_correlations(dir.path()).expect("read"),
        vec![
            // In both combinations: once.
            pair(1, "6f1c2a8e-5d34-4e0b-9a55-3c0d2b1e7f01"),
            pair(2, "20240812T101500Z-4242@caldav.example"),
            // Written upper-case, a quoted number.
            pair(3, "12345"),
            pair(4, "uid: with colon"),
            pair(5, "täsk-Ω"),
            // Folded over two lines, and a `? ` key in the inverse.
            pair(6, &long),
            pair(7, "yes"),
            pair(8, "new-bidict-uid"),
        ]
    );
}

#[test]
fn an_empty_bidict_has_no_pairs() {
    let dir = dir_with(&[("Inbox__None__None__None.yaml", EMPTY)]);
    assert_eq!(read_correlations(dir.path()).expect("read"), vec![]);
}

#[test]
fn files_without_the_key_are_skipped() {
    let dir = dir_with(&[
        // PrefsManager's new file, before syncall's first exit.
        ("fresh.yaml", "{}"),
        ("blank.yaml", ""),
        ("tw_gcal_sync.yaml", "Tw_gcal_ids: {}\n"),
        ("tw_caldav_configs.yaml", CONFIGS),
        ("notes.txt", "Tw_caldav_ids: [not yaml we read"),
    ]);
    std::fs::create_dir_all(dir.path().join("serdes/tw")).expect("serdes dir");
    assert_eq!(read_correlations(dir.path()).expect("read"), vec![]);
}

#[test]
fn the_file_of_a_bidict_pickled_as_its_inverse_is_read_back_the_right_way_round() {
    let dir = dir_with(&[(
        "inv.yaml",
        "Tw_caldav_ids: !!python/object/apply:bidict._base._from_other\n\
         - !!python/name:bidict._bidict.bidict ''\n\
         - uid-9: 0a1b2c3d-1111-4aaa-8bbb-000000000009\n\
         - true\n",
    )]);
    assert_eq!(
        read_correlations(dir.path()).expect("read"),
        vec![pair(9, "uid-9")]
    );
}

#[test]
fn a_malformed_file_is_named_with_what_is_wrong() {
    malformed("Tw_caldav_ids: !!python/object:bidict.bidict\n  _fwdm: {unclosed\n");
    assert!(malformed("Tw_caldav_ids: 42\n").contains("neither a bidict nor a mapping"));
    assert!(
        malformed("Tw_caldav_ids:\n  _fwdm:\n    not-a-uuid: uid-1\n")
            .contains("not a Taskwarrior uuid: \"not-a-uuid\"")
    );
    assert!(
        malformed("Tw_caldav_ids:\n  _fwdm:\n    0a1b2c3d-1111-4aaa-8bbb-000000000001: 0o17\n")
            .contains("quote it")
    );
    assert!(malformed("Tw_caldav_ids:\n  _fwdm: [a, b]\n").contains("holds no mapping"));
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gone = dir.path().join("syncall");
    let err = read_correlations(&gone).expect_err("missing");
    assert!(matches!(err, SyncallError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("syncall"), "{err}");
}
