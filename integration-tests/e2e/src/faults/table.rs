//! docs/FAULTS.md from the measurements the cases wrote.

use serde_json::Value;

/// `docs/FAULTS.md` from the measurements' JSON lines (the file `$VSYNC_FAULTS_OUT` named):
/// one row per case and Taskwarrior version, by family and case.
pub fn table(lines: &str) -> String {
    let mut rows: Vec<Value> = lines
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let key = |r: &Value| {
        (
            r["family"].as_str().unwrap_or("").to_string(),
            r["case"].as_str().unwrap_or("").to_string(),
            r["tw"].as_str().unwrap_or("").to_string(),
        )
    };
    rows.sort_by_key(key);
    let mut out = String::from(
        "# Fault suite\n\n\
         Made by `scripts/faults.sh` from the measurements the cases of \
         `integration-tests/e2e/tests/it/faults/` write (`VSYNC_FAULTS_OUT`); do not edit by \
         hand. Every case runs on a real nats-server, real Taskwarrior and the Vikunja \
         simulator, injects its fault, changes both sides, and then waits until Vikunja and \
         every host agree. **Lost**: a wanted task (or deletion) missing on some side; \
         **duplicated**: an extra copy, or a task nobody made; **wiped**: a wanted field \
         missing or different; **dead letters**: messages left in the dead-letter stream; \
         **time to converge**: from the end of the fault until every side agreed.\n\n\
         | family | case | injected | Taskwarrior | lost | duplicated | wiped | dead letters | time to converge | result |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        let ms = n("converge_ms");
        let time = if ms >= 10_000 {
            format!("{:.0} s", ms as f64 / 1000.0)
        } else {
            format!("{:.2} s", ms as f64 / 1000.0)
        };
        let (family, case, tw) = key(r);
        out += &format!(
            "| {family} | {case} | {} | {tw} | {} | {} | {} | {} | {time} | {} |\n",
            r["injected"].as_str().unwrap_or("").replace('|', "\\|"),
            n("lost"),
            n("duplicated"),
            n("wiped"),
            n("dead_letters"),
            if r["passed"].as_bool() == Some(true) {
                "pass"
            } else {
                "**FAIL**"
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_table_has_a_row_per_measurement_by_family_and_case() {
        let lines = [
            json!({"family": "watcher", "case": "b", "injected": "x | y", "tw": "3.5.0",
                   "passed": true, "lost": 0, "duplicated": 0, "wiped": 0, "dead_letters": 0,
                   "converge_ms": 1234}),
            json!({"family": "reconciler", "case": "a", "injected": "z", "tw": "2.6.2",
                   "passed": false, "lost": 1, "duplicated": 2, "wiped": 3, "dead_letters": 4,
                   "converge_ms": 61_000}),
        ]
        .map(|l| l.to_string())
        .join("\n");
        let t = table(&format!("{lines}\nnot json\n"));
        let rows: Vec<&str> = t.lines().filter(|l| l.starts_with("| ")).skip(1).collect();
        assert_eq!(
            rows,
            [
                "| reconciler | a | z | 2.6.2 | 1 | 2 | 3 | 4 | 61 s | **FAIL** |",
                "| watcher | b | x \\| y | 3.5.0 | 0 | 0 | 0 | 0 | 1.23 s | pass |",
            ]
        );
    }
}
