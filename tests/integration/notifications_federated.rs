//! Keeping up across instances: mentions that travel between servers, and watching a forum
//! followed from elsewhere.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::notifications::notices;
use crate::support::{drain_all, network, TestApp};

both_backends!(
    mentions_travel_between_instances,
    watching_a_forum_elsewhere,
);

async fn mentions_travel_between_instances(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    beta.create_user("bea", false).await;
    gamma.create_user("gus", false).await;
    let bea = beta.token("bea").await;
    let (status, body) = beta.follow(&bea, format!("maths@{}", alpha.domain())).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&all).await;
    let alice = alpha.token("alice").await;
    let gus = gamma.token("gus").await;

    // alice names bea (whose server follows the forum) and gus (whose server does not, and
    // whom alpha has never seen): both are linked, tagged, and told.
    let body = format!(
        "Ideas welcome, @bea@{} and @gus@{}!",
        beta.domain(),
        gamma.domain()
    );
    let thread = alpha
        .thread(&alice, "maths", "Estimation jars", &body)
        .await;
    drain_all(&all).await;
    let page: Value = reqwest::Client::new()
        .get(alpha.url(&format!("/t/{thread}")))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tagged: Vec<&str> = page["tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["href"].as_str().unwrap())
        .collect();
    let bea_id = format!("{}/u/bea", beta.address);
    let gus_id = format!("{}/u/gus", gamma.address);
    assert_eq!(tagged, vec![bea_id.as_str(), gus_id.as_str()], "{page}");
    for id in [&bea_id, &gus_id] {
        assert!(
            page["cc"].as_array().unwrap().contains(&json!(id)),
            "{page}"
        );
    }
    let content = page["content"].as_str().unwrap();
    assert!(content.contains(&format!("href=\"{gus_id}\"")), "{content}");
    let (bea_told, _) = notices(beta, &bea, false).await;
    assert_eq!(bea_told.len(), 1, "{bea_told:?}");
    assert_eq!(bea_told[0].0, "mention");
    let (gus_told, _) = notices(gamma, &gus, false).await;
    assert_eq!(
        gus_told.len(),
        1,
        "gamma took the thread that names gus: {gus_told:?}"
    );
    assert_eq!(gus_told[0].0, "mention");

    // bea answers on beta: alice, on alpha, is told of the reply.
    let (_, threads) = beta
        .read(&format!("/api/v1/forums/maths@{}/threads", alpha.domain()))
        .await;
    let on_beta = threads["threads"][0]["id"].as_i64().unwrap();
    beta.reply(&bea, on_beta, "Beans, then buttons.", None)
        .await;
    drain_all(&all).await;
    let (alice_told, unread) = notices(alpha, &alice, false).await;
    assert_eq!(unread, 1);
    assert_eq!(alice_told[0].0, "reply");
    let _ = gus;
}

async fn watching_a_forum_elsewhere(backend: Backend) {
    let net = network(backend, 2).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    beta.create_user("bea", false).await;
    beta.create_user("ben", false).await;
    let bea = beta.token("bea").await;
    let ben = beta.token("ben").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&all).await;

    // bea watches the forum on beta; ben reads it but does not.
    let (status, body) = beta
        .api(
            Method::PUT,
            &format!("/api/v1/forums/{handle}/watch"),
            Some(&bea),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let thread = alpha
        .thread(&alice, "maths", "Fractions walls", "Paper or card?")
        .await;
    alpha
        .reply(&alice, thread, "Card lasts longer.", None)
        .await;
    drain_all(&all).await;
    let (told, unread) = notices(beta, &bea, false).await;
    assert_eq!(unread, 2, "{told:?}");
    assert!(told.iter().all(|(kind, _)| kind == "watched"), "{told:?}");
    let (told, _) = notices(beta, &ben, false).await;
    assert!(told.is_empty(), "{told:?}");

    // Stopping watching it stops the notifications; the forum is still followed.
    let (status, body) = beta
        .api(
            Method::DELETE,
            &format!("/api/v1/forums/{handle}/watch"),
            Some(&bea),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    alpha.reply(&alice, thread, "Or laminated.", None).await;
    drain_all(&all).await;
    let (_, unread) = notices(beta, &bea, false).await;
    assert_eq!(unread, 2);
    let (_, threads) = beta.read(&format!("/api/v1/forums/{handle}/threads")).await;
    assert_eq!(threads["threads"][0]["reply_count"], 2, "{threads}");
}
