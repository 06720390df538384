use std::fs;

use super::*;

#[test]
fn text_files_are_the_stacks_own_text_files_and_no_link_out_of_it() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.md"), "pushgateway:9091\n").unwrap();
    let stack = tempfile::tempdir().unwrap();
    let root = stack.path();
    for (path, text) in [
        ("README.md", "docs\n"),
        (".env", "PUSHGATEWAY=pgw:9091\n"),
        ("app/main.py", "push_to_gateway()\n"),
        ("app/node_modules/lib.js", "pushAdd()\n"),
        (".git/config", "[core]\n"),
        ("app/.cache/x.txt", "hidden folder\n"),
        ("big.txt", "a file longer than the limit of thirty bytes\n"),
        ("skip-me.txt", "left out by the caller\n"),
    ] {
        fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        fs::write(root.join(path), text).unwrap();
    }
    fs::write(root.join("latin1.txt"), b"caf\xe9\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("linked.md")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("linked-dir")).unwrap();
    let dir = StackDir::open(root).unwrap();
    let files = dir.text_files(&["node_modules"], 30, |rel| rel.as_str() != "skip-me.txt");
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".env", "README.md", "app/main.py"]);
    assert_eq!(files[1].text(), "docs\n");
}
