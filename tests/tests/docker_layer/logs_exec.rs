//! Logs (whole lines, tail, follow) and exec exit codes.

use super::*;

#[tokio::test]
async fn logs_come_back_as_whole_lines_with_tail() {
    let ship = ship().await;
    ensure_test_image();
    let name = unique("logs");
    let _cleanup = Containers::new(&[&name]);
    let script = "echo one; echo two >&2; printf par; sleep 0.3; printf 'tial\\n'; \
                  echo three; printf 'err ' >&2; sleep 0.3; echo 'line' >&2; printf noeol";
    ship.create(&basic_spec(&name, &["sh", "-c", script]))
        .await
        .expect("create");
    ship.start(&name).await.expect("start");
    wait_exited(&ship, &name).await;

    let all = ship.logs(&name, LogTail::All).await.expect("logs");
    assert_eq!(
        texts(&all, LogStream::Stdout),
        ["one", "partial", "three", "noeol"]
    );
    assert_eq!(texts(&all, LogStream::Stderr), ["two", "err line"]);

    let last = ship.logs(&name, LogTail::Last(1)).await.expect("logs");
    assert_eq!(
        last,
        [LogLine {
            stream: LogStream::Stdout,
            text: "noeol".into()
        }]
    );

    let err = ship
        .logs(&unique("absent"), LogTail::All)
        .await
        .expect_err("no such container");
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(
        err.to_string().contains("read logs of container mtest-"),
        "{err}"
    );
}

#[tokio::test]
async fn follow_streams_lines_until_the_container_stops() {
    let ship = ship().await;
    ensure_test_image();
    let name = unique("follow");
    let _cleanup = Containers::new(&[&name]);
    let script = "echo early; sleep 1; for i in 1 2 3; do echo line$i; sleep 0.2; done; \
                  printf a; sleep 0.3; echo b; echo oops >&2";
    ship.create(&basic_spec(&name, &["sh", "-c", script]))
        .await
        .expect("create");
    ship.start(&name).await.expect("start");
    let stream = ship.follow_logs(&name, LogTail::All);
    let lines: Vec<LogLine> = tokio::time::timeout(Duration::from_secs(30), async {
        stream.map(|l| l.expect("log line")).collect().await
    })
    .await
    .expect("the stream ends when the container stops");
    assert_eq!(
        texts(&lines, LogStream::Stdout),
        ["early", "line1", "line2", "line3", "ab"]
    );
    assert_eq!(texts(&lines, LogStream::Stderr), ["oops"]);
}

#[tokio::test]
async fn exec_reports_exit_codes_and_output() {
    let ship = ship().await;
    ensure_test_image();
    let name = unique("exec");
    let _cleanup = Containers::new(&[&name]);
    let mut spec = basic_spec(&name, &["sleep", "300"]);
    spec.stop_timeout = 1;
    ship.create(&spec).await.expect("create");

    let err = ship
        .exec(&name, &argv(&["true"]))
        .await
        .expect_err("not running");
    assert!(
        err.to_string().contains(&format!("in container {name}")),
        "{err}"
    );

    ship.start(&name).await.expect("start");
    assert_eq!(
        ship.exec(&name, &argv(&["true"])).await.unwrap().exit_code,
        0
    );
    assert_eq!(
        ship.exec(&name, &argv(&["sh", "-c", "exit 3"]))
            .await
            .unwrap()
            .exit_code,
        3
    );
    let out = ship
        .exec(
            &name,
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 1"]),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 1);
    assert_eq!(texts(&out.output, LogStream::Stdout), ["out"]);
    assert_eq!(texts(&out.output, LogStream::Stderr), ["err"]);
    let missing = ship
        .exec(&name, &argv(&["/no/such/program"]))
        .await
        .expect("an exec of a missing program still has an exit code");
    assert_ne!(missing.exit_code, 0);

    let gone = unique("absent");
    let err = ship
        .exec(&gone, &argv(&["true"]))
        .await
        .expect_err("no such container");
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string()
            .starts_with("ship local: exec \"true\" in container "),
        "{err}"
    );
    assert!(err.to_string().contains(&gone), "{err}");
}
