//! `server.quick_repair = true` (the default is false, which the other kill -9 tests run
//! with): each commit saves the allocator state, so the restart after a kill -9 repairs from it
//! instead of reading the whole file, and still nothing acknowledged is lost.

use std::time::Duration;

use crate::helpers::binary::{
    HoldLoad, command, create_room, login, missing_reservations, start_with,
};
use reqwest::Client;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_with_quick_repair_loses_no_acknowledged_hold() {
    let dir = tempfile::tempdir().unwrap();
    let quick = || {
        let mut c = command(dir.path());
        c.env("ALOJAMIENTOS_SERVER__QUICK_REPAIR", "true");
        c
    };
    let mut server = start_with(quick()).await;
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let password = server.password.clone().unwrap();
    let token = login(&client, &server.base, "admin@alojamientos.local", &password).await;
    let units = [
        create_room(&client, &server.base, &token, "A").await,
        create_room(&client, &server.base, &token, "B").await,
    ];
    let load = HoldLoad::start(&client, &server.base, &units, 16);
    let loaded = || async { load.acknowledged().len() >= 200 };
    assert!(crate::helpers::eventually(Duration::from_secs(60), loaded).await);
    server.crash().await;
    let acked = load.stop().await;

    let restarted = start_with(quick()).await;
    let token = login(
        &client,
        &restarted.base,
        "admin@alojamientos.local",
        &password,
    )
    .await;
    let missing = missing_reservations(&client, &restarted.base, &token, &acked).await;
    assert!(missing.is_empty(), "lost {missing:?} of {}", acked.len());
}
