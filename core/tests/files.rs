//! Every file the engine creates beside a database (backups, automatic backups and their `backups/`
//! folder, the temporaries they are written through, exports): a symbolic link planted at any of
//! those names (to an existing file, dangling, to a folder) is never followed, no other file is
//! touched, the call works safely or fails with a typed error, nothing is left behind, and what is
//! created is no more readable than the database.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use resonance::{Database, NodeInput};

/// What a planted link points at.
#[derive(Debug, Clone, Copy)]
enum Plant {
    /// Another program's SQLite file.
    ExistingFile,
    /// A name that does not exist (the call must not create it).
    Dangling,
    /// A folder with one file in it.
    Folder,
}

const PLANTS: [Plant; 3] = [Plant::ExistingFile, Plant::Dangling, Plant::Folder];

/// The targets of planted links, with their content when planted.
struct Victims {
    dir: tempfile::TempDir,
    before: BTreeMap<PathBuf, Option<Vec<u8>>>,
}

impl Victims {
    fn new() -> Victims {
        Victims {
            dir: tempfile::tempdir().unwrap(),
            before: BTreeMap::new(),
        }
    }

    /// Plants a symbolic link at `at` pointing to a new target of kind `plant`.
    fn plant(&mut self, at: &Path, plant: Plant) {
        let n = self.before.len();
        let target = self.dir.path().join(format!("target-{n}"));
        match plant {
            Plant::ExistingFile => {
                let c = rusqlite::Connection::open(&target).unwrap();
                c.execute_batch("CREATE TABLE precious(x); INSERT INTO precious VALUES (42);")
                    .unwrap();
                drop(c);
                self.before
                    .insert(target.clone(), Some(std::fs::read(&target).unwrap()));
            }
            Plant::Dangling => {
                self.before.insert(target.clone(), None);
            }
            Plant::Folder => {
                std::fs::create_dir(&target).unwrap();
                std::fs::write(target.join("inside"), b"inside").unwrap();
                self.before
                    .insert(target.clone(), Some(b"<folder>".to_vec()));
            }
        }
        symlink(&target, at).unwrap();
    }

    /// Every target is as planted: files byte-identical, dangling targets still missing, folders
    /// holding only what they held.
    fn check_untouched(&self) {
        for (target, before) in &self.before {
            match before {
                None => assert!(
                    std::fs::symlink_metadata(target).is_err(),
                    "{} was created through a dangling link",
                    target.display()
                ),
                Some(b) if b == b"<folder>" => {
                    let names: Vec<_> = std::fs::read_dir(target)
                        .unwrap()
                        .map(|e| e.unwrap().file_name())
                        .collect();
                    assert_eq!(names, ["inside"], "{} gained files", target.display());
                }
                Some(b) => assert_eq!(
                    &std::fs::read(target).unwrap(),
                    b,
                    "{} changed",
                    target.display()
                ),
            }
        }
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

/// A database with a node, its file made private (0600).
fn private_db(dir: &Path) -> (PathBuf, Database) {
    let path = dir.join("kb.db");
    let db = Database::open(&path).unwrap();
    db.upsert_node(&NodeInput::new("a")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path, db)
}

/// No temporary folder or file of ours is left in `dir`.
fn no_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !n.contains("resonance-tmp") && !n.contains(".partial-"),
            "left behind in {}: {n}",
            dir.display()
        );
    }
}

#[test]
fn a_backup_destination_held_by_a_link_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = private_db(dir.path());
    let mut victims = Victims::new();
    for (i, plant) in PLANTS.iter().enumerate() {
        let dest = dir.path().join(format!("copy-{i}.db"));
        victims.plant(&dest, *plant);
        let err = db.backup(Some(&dest)).unwrap_err();
        assert_eq!(err.code(), "invalid_argument", "{plant:?}: {err}");
        assert!(err.to_string().contains("already exists"), "{err}");
        assert!(std::fs::symlink_metadata(&dest)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    victims.check_untouched();
    no_temporaries(dir.path());
}

#[test]
fn links_planted_at_temporary_and_sidecar_names_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (path, db) = private_db(dir.path());
    let mut victims = Victims::new();
    let pid = std::process::id();
    for (i, plant) in PLANTS.iter().enumerate() {
        let dest = dir.path().join(format!("copy-{i}.db"));
        // The names a copy could be written through: the old temporary, SQLite's journals.
        let planted: Vec<PathBuf> = [format!(".partial-{pid}"), "-journal".into(), "-wal".into()]
            .iter()
            .map(|suffix| {
                let mut at = dest.clone().into_os_string();
                at.push(suffix);
                PathBuf::from(at)
            })
            .collect();
        for at in &planted {
            victims.plant(at, *plant);
        }
        let got = db.backup(Some(&dest)).unwrap();
        assert_eq!(got, dest);
        let meta = std::fs::symlink_metadata(&dest).unwrap();
        assert!(meta.file_type().is_file(), "{plant:?}: not a plain file");
        assert_eq!(mode(&dest) & 0o077, 0, "{plant:?}: mode {:o}", mode(&dest));
        victims.check_untouched();
        // The links are still there (nothing wrote through or replaced them); removed to open the copy.
        for at in &planted {
            assert!(std::fs::symlink_metadata(at)
                .unwrap()
                .file_type()
                .is_symlink());
            std::fs::remove_file(at).unwrap();
        }
        let copy = Database::open(&dest).unwrap();
        assert!(copy.get_node("a").unwrap().is_some());
        copy.close().unwrap();
    }
    victims.check_untouched();
    no_temporaries(dir.path());
    assert_eq!(mode(&path), 0o600, "the source's mode changed");
}

#[test]
fn a_backups_folder_that_is_a_link_is_refused() {
    for plant in PLANTS {
        let dir = tempfile::tempdir().unwrap();
        let (_, db) = private_db(dir.path());
        let mut victims = Victims::new();
        victims.plant(&dir.path().join("backups"), plant);
        let err = db.backup(None).unwrap_err();
        assert_eq!(err.code(), "io", "{plant:?}: {err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        victims.check_untouched();
        no_temporaries(dir.path());
    }
}

#[test]
fn a_backups_name_that_is_a_plain_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = private_db(dir.path());
    std::fs::write(dir.path().join("backups"), b"mine").unwrap();
    let err = db.backup(None).unwrap_err();
    assert_eq!(err.code(), "io", "{err}");
    assert_eq!(std::fs::read(dir.path().join("backups")).unwrap(), b"mine");
}

#[test]
fn automatic_backups_and_their_folder_are_no_wider_than_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (path, db) = private_db(dir.path());
    let b = db.backup(None).unwrap();
    let folder = b.parent().unwrap();
    assert_eq!(folder, dir.path().join("backups"));
    assert_eq!(mode(folder), 0o700, "backups/ mode");
    assert_eq!(mode(&b) & 0o077, 0, "backup mode {:o}", mode(&b));
    no_temporaries(folder);
    // A group-readable database gives a group-readable (not world-readable) folder and copy.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = dir2.path().join("kb.db");
    std::fs::copy(&path, &path2).unwrap();
    std::fs::set_permissions(&path2, std::fs::Permissions::from_mode(0o640)).unwrap();
    let db2 = Database::open(&path2).unwrap();
    let b2 = db2.backup(None).unwrap();
    assert_eq!(mode(b2.parent().unwrap()) & 0o007, 0);
    assert_eq!(mode(&b2) & 0o007, 0, "backup mode {:o}", mode(&b2));
}

#[test]
fn new_files_are_never_written_through_a_planted_name() {
    let dir = tempfile::tempdir().unwrap();
    let (path, db) = private_db(dir.path());
    let mut victims = Victims::new();
    for (i, plant) in PLANTS.iter().enumerate() {
        let dest = dir.path().join(format!("export-{i}.jsonl"));
        victims.plant(&dest, *plant);
        let err = resonance::backup::write_new_file(&dest, 0o600, |f| {
            resonance::backup::export_jsonl(&db, f)
        })
        .unwrap_err();
        assert_eq!(err.code(), "invalid_argument", "{plant:?}: {err}");
    }
    victims.check_untouched();
    no_temporaries(dir.path());
    // A free name: written, private, complete.
    let dest = dir.path().join("export.jsonl");
    let written =
        resonance::backup::write_new_file(&dest, resonance::backup::file_mode(&path), |f| {
            resonance::backup::export_jsonl(&db, f)
        })
        .unwrap();
    assert_eq!((written.nodes, written.edges), (1, 0));
    assert_eq!(mode(&dest), 0o600);
    assert_eq!(std::fs::read_to_string(&dest).unwrap().lines().count(), 2);
    // A failing writer leaves nothing, not even the destination.
    let dest = dir.path().join("failed.jsonl");
    let err = resonance::backup::write_new_file(&dest, 0o600, |_| -> resonance::Result<()> {
        Err(resonance::Error::Internal("the writer failed".into()))
    })
    .unwrap_err();
    assert_eq!(err.code(), "internal");
    assert!(std::fs::symlink_metadata(&dest).is_err());
    no_temporaries(dir.path());
}

#[test]
fn links_at_the_sidecar_names_of_a_database_are_not_followed() {
    for plant in PLANTS {
        for existing in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("kb.db");
            if existing {
                let db = Database::open(&path).unwrap();
                db.upsert_node(&NodeInput::new("a")).unwrap();
                db.close().unwrap();
                for s in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(dir.path().join(format!("kb.db{s}")));
                }
            }
            let mut victims = Victims::new();
            for s in ["-wal", "-shm", "-journal"] {
                victims.plant(&dir.path().join(format!("kb.db{s}")), plant);
            }
            // SQLite opens its journals with O_NOFOLLOW: the open fails, typed, or works safely.
            match Database::open(&path) {
                Ok(db) => {
                    db.upsert_node(&NodeInput::new("b")).unwrap();
                    db.close().unwrap();
                }
                Err(e) => assert!(
                    ["io", "sqlite", "readonly"].contains(&e.code()),
                    "{plant:?} existing={existing}: {e}"
                ),
            }
            victims.check_untouched();
        }
    }
}

#[test]
fn a_link_at_the_read_only_probe_name_is_not_followed_and_does_not_fail_the_open() {
    for plant in PLANTS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kb.db");
        let db = Database::open(&path).unwrap();
        db.upsert_node(&NodeInput::new("a")).unwrap();
        db.close().unwrap();
        for s in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("kb.db{s}")));
        }
        let mut victims = Victims::new();
        let probe = dir
            .path()
            .join(format!(".resonance-probe-{}", std::process::id()));
        victims.plant(&probe, plant);
        let r = Database::open_with(
            &path,
            resonance::OpenOptions {
                read_only: true,
                ..Default::default()
            },
        );
        // The folder is writable: an entry planted at the probe's first name must neither be
        // followed nor make the open say it is not.
        let db = r.unwrap_or_else(|e| panic!("{plant:?}: {e}"));
        assert_eq!(db.stats().unwrap().nodes, 1);
        drop(db);
        victims.check_untouched();
        assert!(std::fs::symlink_metadata(&probe)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

#[test]
fn folders_made_for_a_backup_destination_are_no_wider_than_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = private_db(dir.path());
    let dest = dir.path().join("new").join("sub").join("copy.db");
    db.backup(Some(&dest)).unwrap();
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    assert_eq!(mode(&dir.path().join("new").join("sub")), 0o700);
    assert_eq!(mode(&dest) & 0o077, 0);
}
