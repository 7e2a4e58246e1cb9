//! Start, stop, kill, remove and list.

use super::*;

#[tokio::test]
async fn lifecycle_start_stop_kill_remove() {
    let ship = ship().await;
    ensure_test_image();
    // A 2 s HTTP timeout: the 4 s stop below must still get its answer.
    let impatient = ship_with_timeout(Duration::from_secs(2)).await;
    let name = unique("life");
    let _cleanup = Containers::new(&[&name]);
    // busybox sleep as PID 1 ignores SIGTERM, so a stop always waits the full timeout.
    ship.create(&basic_spec(&name, &["sleep", "300"]))
        .await
        .expect("create");

    ship.start(&name).await.expect("start");
    let info = ship.inspect(&name).await.unwrap().unwrap();
    assert!(info.state.running);
    assert_eq!(info.state.status, "running");
    assert!(info.state.started_at.is_some());

    let err = ship.remove(&name).await.expect_err("running: not removed");
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("ship local: remove container {name} failed: "))
    );

    let began = Instant::now();
    impatient
        .stop(&name, 4)
        .await
        .expect("a slow stop is not cut off");
    assert!(
        began.elapsed() >= Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    let info = ship.inspect(&name).await.unwrap().unwrap();
    assert!(!info.state.running);
    assert_eq!(info.state.exit_code, Some(137));
    assert!(info.state.finished_at.is_some());
    ship.stop(&name, 3)
        .await
        .expect("stopping a stopped container");

    ship.start(&name).await.expect("start again");
    assert!(ship.inspect(&name).await.unwrap().unwrap().state.running);
    ship.kill(&name).await.expect("kill");
    let info = eventually("the kill to land", Duration::from_secs(10), || async {
        ship.inspect(&name)
            .await
            .unwrap()
            .filter(|i| !i.state.running)
    })
    .await;
    assert_eq!(info.state.exit_code, Some(137));

    ship.remove(&name).await.expect("remove");
    assert_eq!(ship.inspect(&name).await.expect("inspect"), None);
    let err = ship.remove(&name).await.expect_err("already gone");
    assert_eq!(err.status(), Some(404));
    let err = ship.start(&name).await.expect_err("gone");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("ship local: start container {name} failed: ")),
        "{text}"
    );
    let err = ship.kill(&name).await.expect_err("gone");
    assert_eq!(err.status(), Some(404), "{err}");
}

#[tokio::test]
async fn list_by_names_and_by_label() {
    let ship = ship().await;
    ensure_test_image();
    let base = unique("list");
    let a = format!("{base}-a");
    let b = format!("{base}-b");
    let _cleanup = Containers::new(&[&a, &b]);
    let env_label = unique("env");
    for name in [&a, &b] {
        let mut spec = basic_spec(name, &["true"]);
        spec.labels
            .insert("maestro.environment".into(), env_label.clone());
        ship.create(&spec).await.expect("create");
    }
    let by_label = ship
        .list(&ContainerSelector::Label {
            key: "maestro.environment".into(),
            value: Some(env_label.clone()),
        })
        .await
        .expect("list");
    let names: Vec<_> = by_label.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, [a.clone(), b.clone()]);
    assert_eq!(by_label[0].image, TEST_IMAGE);
    assert_eq!(by_label[0].state, "created");
    assert_eq!(
        by_label[0].labels.get("maestro.environment"),
        Some(&env_label)
    );

    // A name filter is exact: a prefix of a name does not match it.
    let prefix = a[..a.len() - 2].to_string();
    let by_name = ship
        .list(&ContainerSelector::Names(vec![
            b.clone(),
            prefix,
            unique("absent"),
        ]))
        .await
        .expect("list");
    let names: Vec<_> = by_name.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, [b.as_str()]);
    assert!(
        ship.list(&ContainerSelector::Names(vec![]))
            .await
            .unwrap()
            .is_empty()
    );
}
