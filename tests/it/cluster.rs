//! The suite on a Ballista cluster (feature `distributed`): a scheduler and two executors
//! started as separate processes on loopback ports must publish the same bytes as a local run,
//! and an unreachable scheduler must fail the run before anything is published.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{binary, run_ok};

/// A process killed (and reaped) when dropped, with its stderr in a log file.
struct Server {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(name: &str, logs: &Path, args: &[String]) -> Server {
        let log = logs.join(format!("{name}.log"));
        let child = Command::new(assert_cmd::cargo::cargo_bin("dispute-stats"))
            .arg("-v")
            .args(args)
            .env_remove("DISPUTE_STATS_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Server {
            name: name.to_string(),
            child,
            log,
        }
    }

    /// Waits until `port` accepts connections, failing if the process died.
    fn wait_for(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}:\n{}", self.name, self.tail());
            }
            assert!(
                Instant::now() < deadline,
                "{} does not listen on {port}:\n{}",
                self.name,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scheduler and two executors of this binary on free loopback ports.
struct Cluster {
    address: String,
    servers: Vec<Server>,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let ports = free_ports(5);
        let arg = |port: u16| port.to_string();
        let mut scheduler = Server::start(
            "scheduler",
            dir,
            &[
                "scheduler".into(),
                "--port".into(),
                arg(ports[0]),
                "--task-distribution".into(),
                "round-robin".into(),
            ],
        );
        scheduler.wait_for(ports[0]);
        let address = format!("df://127.0.0.1:{}", ports[0]);
        let mut servers = vec![scheduler];
        for (index, pair) in ports[1..].chunks(2).enumerate() {
            let work = dir.join(format!("executor-{index}"));
            let mut executor = Server::start(
                &format!("executor-{index}"),
                dir,
                &[
                    "executor".into(),
                    "--scheduler".into(),
                    address.clone(),
                    "--port".into(),
                    arg(pair[0]),
                    "--grpc-port".into(),
                    arg(pair[1]),
                    "--concurrent-tasks".into(),
                    "2".into(),
                    "--work-dir".into(),
                    work.display().to_string(),
                ],
            );
            executor.wait_for(pair[0]);
            executor.wait_for(pair[1]);
            servers.push(executor);
        }
        Cluster { address, servers }
    }

    fn logs(&self) -> String {
        self.servers
            .iter()
            .map(|s| format!("--- {}\n{}", s.name, s.tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Ports free at the time of asking (held together so that they differ).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("address").port())
        .collect()
}

/// Generated cases split over `parts` CSV files in `dir` (each with the header).
fn split_cases(dir: &Path, parts: usize) -> PathBuf {
    let all = dir.join("all.csv");
    binary()
        .args(["generate", "--cases", "5000", "--seed", "11", "--out"])
        .arg(&all)
        .assert()
        .success();
    let text = std::fs::read_to_string(&all).expect("generated");
    std::fs::remove_file(&all).expect("removed");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let input = dir.join("input");
    std::fs::create_dir_all(&input).expect("input folder");
    for (index, chunk) in rows.chunks(rows.len().div_ceil(parts)).enumerate() {
        let mut file = format!("{header}\n");
        for row in chunk {
            file.push_str(row);
            file.push('\n');
        }
        std::fs::write(input.join(format!("part-{index}.csv")), file).expect("part written");
    }
    input
}

/// Every file under `root`, relative, sorted.
fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(root).expect("inside").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

fn assert_same_release(local: &Path, cluster: &Path) {
    let names = files(local);
    assert_eq!(names, files(cluster), "the releases hold different files");
    assert!(names.iter().any(|n| n.ends_with("manifest.json")));
    assert!(names.iter().any(|n| n.starts_with("tables")));
    for name in &names {
        let a = std::fs::read(local.join(name)).expect("local file");
        let b = std::fs::read(cluster.join(name)).expect("cluster file");
        assert!(
            a == b,
            "`{}` differs between the local and the cluster release",
            name.display()
        );
    }
}

#[test]
fn cluster_release_is_byte_identical_to_local() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let input = split_cases(dir.path(), 3);
    let input = input.to_str().expect("UTF-8 path");
    let cluster = Cluster::start(dir.path());
    let storage = dir.path().join("shared");
    std::fs::create_dir_all(&storage).expect("storage folder");
    let common = ["--input", input, "--as-of", "2024-09-30"];

    let local = run_ok(&dir.path().join("local"), &common);
    let mut remote_args = common.to_vec();
    let storage_arg = storage.display().to_string();
    // A partition count other than the local run's: results must not depend on it.
    remote_args.extend([
        "--engine",
        &cluster.address,
        "--cluster-storage",
        &storage_arg,
        "--cluster-partitions",
        "5",
    ]);
    let output = binary()
        .arg("run")
        .arg("--out")
        .arg(dir.path().join("remote"))
        .args(&remote_args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "cluster run failed: {}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        cluster.logs()
    );
    let remote = dir.path().join("remote/all");
    assert_same_release(&local, &remote);
    for executor in &cluster.servers[1..] {
        assert!(
            executor.log_text().contains("Execute task"),
            "{} ran no task:\n{}",
            executor.name,
            cluster.logs()
        );
    }
    assert_eq!(
        std::fs::read_dir(&storage).expect("storage").count(),
        0,
        "the staged cases are removed after the run"
    );

    // `sql` through the cluster: the project's scalar and aggregate functions, by region.
    let query = "SELECT region, count(*) AS cases, ratio(sum(CAST(settled AS INT)), count(*)) AS share, \
                 wilson_low(sum(CAST(settled AS INT)), count(*)) AS low, \
                 km_median(duration_days, resolved) AS median, \
                 km_resolved_by(duration_days, resolved, 90) AS by_90 \
                 FROM cases GROUP BY region ORDER BY region";
    let sql = |extra: &[&str]| {
        let output = binary()
            .arg("sql")
            .arg(query)
            .args(common)
            .args(extra)
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "sql failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            cluster.logs()
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let local_rows = sql(&[]);
    assert!(local_rows.lines().count() > 3, "{local_rows}");
    assert_eq!(local_rows, sql(&["--engine", &cluster.address]));
    // The cluster session shares fits as a local one does: both KM statistics are read off one
    // histogram, which the scheduler and executors know by name.
    let explain = binary()
        .arg("sql")
        .arg(format!("EXPLAIN {query}"))
        .args(common)
        .args(["--engine", &cluster.address])
        .output()
        .expect("runs");
    let plan = String::from_utf8_lossy(&explain.stdout);
    assert!(
        explain.status.success(),
        "{}",
        String::from_utf8_lossy(&explain.stderr)
    );
    let distributed = plan.split("distributed_plan").nth(1).unwrap_or_default();
    assert!(
        distributed.contains("km_fit(") && distributed.contains("km_median_from_fit("),
        "{plan}"
    );
}

#[test]
fn unreachable_cluster_exits_1_and_publishes_nothing() {
    let out = tempfile::tempdir().expect("temporary folder");
    let port = free_ports(1)[0];
    let address = format!("df://127.0.0.1:{port}");
    let output = binary()
        .args(["run", "--engine", &address, "--out"])
        .arg(out.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
    assert!(!out.path().join("all").exists());
    assert!(!out.path().join("latest").exists());
    assert!(!out.path().join(".releases").exists());
}

#[test]
fn a_bad_engine_address_is_a_usage_error() {
    let out = tempfile::tempdir().expect("temporary folder");
    binary()
        .args(["run", "--engine", "127.0.0.1:50050", "--out"])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("df://HOST:PORT"));
    binary()
        .args([
            "run",
            "--engine",
            "df://stats-scheduler.internal:50050",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--cluster-storage"));
}
