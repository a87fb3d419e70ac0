//! Fan-out of live events on loopback: 1 000 and then 10 000 open event streams (one
//! agent each) on the release server on SQLite, then 10 000 on PostgreSQL (a private
//! cluster) served by one instance, then by two instances on one database (5 000 streams
//! each, alternately); an event to everyone is posted 20 times (alternately to each
//! instance) and each stream's delivery latency is taken from the moment the post was
//! sent. Prints p50, p99 and each server's memory next to the goals (docs/PERFORMANCE.md).
//!
//! Then, with the same 10 000 streams open over the two instances: events each to one
//! agent, posted alternately to the two instances at stepped rates (doubling from
//! [`FIRST_RATE`] while p99 holds), each due at a fixed moment of a schedule; each
//! event's latency is taken from that moment to its delivery at its one recipient's
//! stream. Prints each step and the highest rate held at p99 ≤ [`GOAL_P99_MS`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../../crates/server/tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use agent_desk_e2e::{TeamServer, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD};
use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

const EVENTS: usize = 20;
const SPACING: Duration = Duration::from_millis(750);

/// The goal for a delivery's p99.
const GOAL_P99_MS: f64 = 100.0;
/// The rate steps of events to one agent: from the first, doubling while p99 holds, up
/// to the last; each lasts [`STEP`].
const FIRST_RATE: u32 = 50;
const LAST_RATE: u32 = 3_200;
const STEP: Duration = Duration::from_secs(5);
/// Posts in flight at most, over both instances: each takes the next event of the
/// schedule and sends it at its moment.
const POSTERS: usize = 64;
/// A step's deliveries have all arrived, or none has for this long: some are lost.
const QUIET: Duration = Duration::from_secs(10);
/// The servers are settled once they use less than this much CPU time a second.
const SETTLED_CPU: Duration = Duration::from_millis(50);
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    println!("fan-out: {EVENTS} events to everyone, each stream's delivery latency");
    println!(
        "{:>10}  {:>9}  {:>8}  {:>11}  {:>11}  {:>9}  {:>9}  {:>9}  {:>19}  {:>19}",
        "database",
        "instances",
        "streams",
        "post p50",
        "first p50",
        "p50",
        "p99",
        "max",
        "RSS idle",
        "RSS peak"
    );
    for (database, instances, streams) in [
        ("sqlite", 1, 1_000),
        ("sqlite", 1, 10_000),
        ("postgres", 1, 10_000),
        ("postgres", 2, 10_000),
    ] {
        let url =
            (database == "postgres").then(|| postgres::PrivatePostgres::shared().database_now());
        let mut fleet = Fleet::open(url, instances, streams).await?;
        let row = fan_out(&mut fleet).await?;
        println!(
            "{database:>10}  {instances:>9}  {streams:>8}  {:>9.1}ms  {:>9.1}ms  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {:>19}  {:>19}",
            row.post_p50,
            row.first_p50,
            row.p50,
            row.p99,
            row.max,
            mib(&row.rss_idle),
            mib(&row.rss_peak)
        );
        if instances > 1 {
            println!(
                "goals: 10 000 streams in ≤ 300 MB with ≤ {GOAL_P99_MS:.0} ms p99; two instances hold 10 000 streams at p99 ≤ {GOAL_P99_MS:.0} ms"
            );
            rates(&mut fleet).await?;
        }
    }
    Ok(())
}

/// Figures in MiB, one for each instance.
fn mib(figures: &[f64]) -> String {
    let figures: Vec<String> = figures.iter().map(|mib| format!("{mib:.1}")).collect();
    format!("{} MiB", figures.join(" / "))
}

struct Row {
    /// The post's round trip, which ends after the event is handed out.
    post_p50: f64,
    /// The first delivery of each event.
    first_p50: f64,
    p50: f64,
    p99: f64,
    max: f64,
    /// Each instance's.
    rss_idle: Vec<f64>,
    rss_peak: Vec<f64>,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The `q` quantile of sorted figures.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The CPU time a process has used, user and system (`/proc/PID/stat`, in the kernel's
/// 100 Hz ticks).
fn cpu_time(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command's closing parenthesis, from the state (field 3).
            let (_, rest) = stat.rsplit_once(')')?;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Waits until the servers are quiet: the streams' opening has consequences (presence
/// changes told to every instance, stream counts written) that would otherwise run into
/// the first events.
async fn settle(pids: &[u32]) -> Result<()> {
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    loop {
        let before: Duration = pids.iter().map(|pid| cpu_time(*pid)).sum();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after: Duration = pids.iter().map(|pid| cpu_time(*pid)).sum();
        if after.saturating_sub(before) < SETTLED_CPU {
            return Ok(());
        }
        if start.elapsed() > SETTLE_LIMIT {
            bail!("the servers were still busy {SETTLE_LIMIT:?} after the streams opened");
        }
    }
}

/// What a stream received, by the event's title.
#[derive(Clone, Copy)]
enum Title {
    /// `Fan-out N`: an event to everyone.
    FanOut(usize),
    /// `One N`: an event to one agent.
    One(usize),
}

impl Title {
    /// From an event's JSON, reading only the title: the measuring side should cost
    /// little.
    fn of(text: &str) -> Option<Self> {
        let (_, rest) = text.split_once("\"title\":\"")?;
        let (title, _) = rest.split_once('"')?;
        if let Some(n) = title.strip_prefix("Fan-out ") {
            return n.parse().ok().map(Title::FanOut);
        }
        title.strip_prefix("One ")?.parse().ok().map(Title::One)
    }
}

struct Arrival {
    /// The stream's number, which is its agent's: stream `i` follows `load-{i+1}`.
    stream: usize,
    title: Title,
    at: Instant,
}

/// Servers on one database, and a stream open for each load agent, spread over them in
/// turn.
struct Fleet {
    servers: Vec<TeamServer>,
    pids: Vec<u32>,
    streams: usize,
    /// The load agents' emails, by stream.
    emails: Vec<String>,
    admin: String,
    http: reqwest::Client,
    arrived: mpsc::UnboundedReceiver<Arrival>,
}

impl Fleet {
    async fn open(database: Option<String>, instances: usize, streams: usize) -> Result<Self> {
        let first = TeamServer::start_on(database, &[], &[])?;
        // Made once, through the first: they are the database's.
        let tokens = first.seed_load(streams as u32)?;
        let admin = first.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
        let mut servers = vec![first];
        for _ in 1..instances {
            servers.push(servers[0].another_instance()?);
        }
        let pids = servers
            .iter()
            .map(|server| server.pid().context("server pid"))
            .collect::<Result<Vec<u32>>>()?;
        let http = reqwest::Client::new();
        // As `seed-load` names them, in the order of their tokens; checked here at both
        // ends, and for every event to one agent by the stream it reaches.
        let emails: Vec<String> = (1..=streams)
            .map(|n| format!("load-{n:05}@example.test"))
            .collect();
        for i in [0, streams - 1] {
            let me: serde_json::Value = http
                .get(format!("{}/api/v1/me", servers[i % instances].url))
                .bearer_auth(&tokens[i])
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::ensure!(
                me["email"] == emails[i].as_str(),
                "token {i} is {}'s, not {}",
                me["email"],
                emails[i]
            );
        }

        let (arrivals, arrived) = mpsc::unbounded_channel::<Arrival>();
        // Connections opened a few hundred at a time, as clients coming back after a
        // restart would be spread out by their backoff.
        let opening = Arc::new(Semaphore::new(200));
        let (ready, mut all_ready) = mpsc::channel::<()>(streams);
        for (stream, token) in tokens.into_iter().enumerate() {
            let arrivals = arrivals.clone();
            let opening = Arc::clone(&opening);
            let ready = ready.clone();
            let ws = servers[stream % instances].url.replace("http://", "ws://");
            let url = format!("{ws}/api/v1/events/stream?after=0");
            tokio::spawn(async move {
                let permit = opening.acquire_owned().await;
                let Ok(mut request) = url.into_client_request() else {
                    return;
                };
                let Ok(value) = format!("Bearer {token}").parse() else {
                    return;
                };
                request.headers_mut().insert(AUTHORIZATION, value);
                // As the app's client reads: a small buffer, which tungstenite zeroes before
                // each read (its default 128 KiB made the clients' memset most of the bench).
                let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
                let connecting =
                    tokio_tungstenite::connect_async_with_config(request, Some(config), false);
                let Ok((mut socket, _)) = connecting.await else {
                    eprintln!("a stream did not open");
                    return;
                };
                drop(permit);
                let _ = ready.send(()).await;
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Text(text) = message {
                        let at = Instant::now();
                        if let Some(title) = Title::of(&text) {
                            let _ = arrivals.send(Arrival { stream, title, at });
                        }
                    }
                }
            });
        }
        drop(ready);
        for _ in 0..streams {
            all_ready.recv().await.context("streams failed to open")?;
        }
        settle(&pids).await?;
        Ok(Self {
            servers,
            pids,
            streams,
            emails,
            admin,
            http,
            arrived,
        })
    }

    /// Posts an event as the administrator to instance `n` modulo their number.
    async fn post(&self, n: usize, event: &serde_json::Value) -> Result<()> {
        self.http
            .post(format!(
                "{}/api/v1/admin/events",
                self.servers[n % self.servers.len()].url
            ))
            .bearer_auth(&self.admin)
            .json(event)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// [`EVENTS`] events to everyone, posted to the instances in turn.
async fn fan_out(fleet: &mut Fleet) -> Result<Row> {
    let streams = fleet.streams;
    let rss_idle: Vec<f64> = fleet.pids.iter().map(|pid| rss_mib(*pid)).collect();
    let mut rss_peak = rss_idle.clone();

    let mut sent_at = Vec::with_capacity(EVENTS);
    let mut stored = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        let at = Instant::now();
        let event = serde_json::json!({
            // Mailed weekly by default: this measures live delivery, not the outbox.
            "type": "kb.article_published",
            "to": "all",
            "priority": "normal",
            "title": format!("Fan-out {n}"),
        });
        fleet.post(n, &event).await?;
        stored.push(ms(at.elapsed()));
        sent_at.push(at);
        tokio::time::sleep(SPACING).await;
        for (peak, pid) in rss_peak.iter_mut().zip(&fleet.pids) {
            *peak = peak.max(rss_mib(*pid));
        }
    }
    let mut latencies = Vec::with_capacity(EVENTS * streams);
    let mut arrivals_by_event: Vec<Vec<Instant>> = vec![Vec::new(); EVENTS];
    // Which stream has which event: a repeat must not stand in for a delivery lost.
    let mut had = vec![vec![false; streams]; EVENTS];
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < EVENTS * streams && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), fleet.arrived.recv()).await {
            Ok(Some(Arrival {
                stream,
                title: Title::FanOut(n),
                at,
            })) if n < EVENTS => {
                anyhow::ensure!(!had[n][stream], "stream {stream} had event {n} twice");
                had[n][stream] = true;
                arrivals_by_event[n].push(at);
                latencies.push(ms(at.duration_since(sent_at[n])))
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    anyhow::ensure!(
        latencies.len() == EVENTS * streams,
        "{} of {} deliveries arrived",
        latencies.len(),
        EVENTS * streams
    );
    // When each event's first stream had it: the time to store it and start handing it
    // out, before the thousands of sends.
    let mut firsts: Vec<f64> = arrivals_by_event
        .iter()
        .zip(&sent_at)
        .filter_map(|(arrivals, sent)| arrivals.iter().min().map(|first| ms(*first - *sent)))
        .collect();
    firsts.sort_by(f64::total_cmp);
    latencies.sort_by(f64::total_cmp);
    stored.sort_by(f64::total_cmp);
    Ok(Row {
        post_p50: stored[stored.len() / 2],
        first_p50: firsts[firsts.len() / 2],
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
        max: quantile(&latencies, 1.0),
        rss_idle,
        rss_peak,
    })
}

/// Events to one agent at rising rates, until p99 misses the goal or the last rate.
async fn rates(fleet: &mut Fleet) -> Result<()> {
    println!(
        "events to one agent each over {} instances and {} streams, {} s a step, latency from each event's due moment",
        fleet.servers.len(),
        fleet.streams,
        STEP.as_secs()
    );
    println!(
        "{:>10}  {:>10}  {:>7}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  goal p99 ≤ {GOAL_P99_MS:.0} ms",
        "asked/s", "achieved/s", "events", "post p99", "sent late", "p50", "p99", "max"
    );
    let mut rate = FIRST_RATE;
    let mut next_id = 0;
    let mut sustained = None;
    loop {
        let step = step(fleet, rate, next_id).await?;
        next_id += step.events;
        let held = step.p99 <= GOAL_P99_MS;
        println!(
            "{rate:>10}  {:>10.1}  {:>7}  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {}",
            step.achieved,
            step.events,
            step.post_p99,
            step.late_max,
            step.p50,
            step.p99,
            step.max,
            if held { "met" } else { "MISSED" }
        );
        if !held {
            break;
        }
        sustained = Some(rate);
        if rate >= LAST_RATE {
            break;
        }
        rate *= 2;
    }
    match sustained {
        Some(rate) if rate >= LAST_RATE => println!(
            "sustained: ≥ {rate} events/s at p99 ≤ {GOAL_P99_MS:.0} ms (the highest rate tried)"
        ),
        Some(rate) => println!("sustained: {rate} events/s at p99 ≤ {GOAL_P99_MS:.0} ms"),
        None => println!(
            "sustained: none of the rates tried held p99 ≤ {GOAL_P99_MS:.0} ms (the lowest was {FIRST_RATE} events/s)"
        ),
    }
    Ok(())
}

struct Step {
    events: usize,
    /// Deliveries a second, from the first event's due moment to the last delivery.
    achieved: f64,
    /// The posts' round trips, from their sending to their answer.
    post_p99: f64,
    /// How long after its due moment the latest post was sent: more than a moment, and
    /// the posters did not hold the rate (its latency counts from its due moment anyway).
    late_max: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

/// A fixed sequence of stream numbers spread over all of them (splitmix64), so that an
/// event's recipient is on either instance whichever instance it is posted to.
fn recipients(count: usize, streams: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z % streams as u64) as usize
        })
        .collect()
}

/// `rate` events a second for [`STEP`], each to one agent, titled `One {first_id + k}`.
async fn step(fleet: &mut Fleet, rate: u32, first_id: usize) -> Result<Step> {
    let count = (u128::from(rate) * STEP.as_millis() / 1000) as usize;
    let targets = recipients(count, fleet.streams, first_id as u64);
    let emails: Arc<Vec<String>> =
        Arc::new(targets.iter().map(|t| fleet.emails[*t].clone()).collect());
    let urls: Arc<Vec<String>> = Arc::new(
        fleet
            .servers
            .iter()
            .map(|server| format!("{}/api/v1/admin/events", server.url))
            .collect(),
    );
    let spacing = Duration::from_secs(1) / rate;
    let start = Instant::now() + Duration::from_millis(200);
    let due = move |k: usize| start + spacing * k as u32;
    let next = Arc::new(AtomicUsize::new(0));
    let mut posters = JoinSet::new();
    for _ in 0..POSTERS {
        let next = Arc::clone(&next);
        let emails = Arc::clone(&emails);
        let urls = Arc::clone(&urls);
        let http = fleet.http.clone();
        let admin = fleet.admin.clone();
        posters.spawn(async move {
            // Each post's round trip and how late it was sent.
            let mut posts = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= emails.len() {
                    return anyhow::Ok(posts);
                }
                tokio::time::sleep_until(due(k).into()).await;
                let sent = Instant::now();
                http.post(&urls[k % urls.len()])
                    .bearer_auth(&admin)
                    .json(&serde_json::json!({
                        // Mailed weekly by default: this measures live delivery.
                        "type": "kb.article_published",
                        "to": {"agent": emails[k]},
                        "priority": "normal",
                        "title": format!("One {}", first_id + k),
                    }))
                    .send()
                    .await?
                    .error_for_status()
                    .with_context(|| format!("posting event {k} of the {rate}/s step"))?;
                posts.push((
                    ms(sent.elapsed()),
                    ms(sent.saturating_duration_since(due(k))),
                ));
            }
        });
    }

    let mut posts = Vec::with_capacity(count);
    let mut delivered: Vec<Option<Instant>> = vec![None; count];
    let mut arrived = 0;
    while arrived < count {
        tokio::select! {
            Some(poster) = posters.join_next() => posts.extend(poster??),
            arrival = fleet.arrived.recv() => {
                let Some(Arrival { stream, title, at }) = arrival else {
                    bail!("every stream closed");
                };
                let Title::One(id) = title else { continue };
                let Some(k) = id.checked_sub(first_id).filter(|k| *k < count) else {
                    bail!("event One {id} arrived outside its step");
                };
                anyhow::ensure!(
                    stream == targets[k],
                    "event One {id} for stream {} reached stream {stream}",
                    targets[k]
                );
                anyhow::ensure!(delivered[k].is_none(), "event One {id} arrived twice");
                delivered[k] = Some(at);
                arrived += 1;
            }
            _ = tokio::time::sleep(QUIET) => bail!(
                "{arrived} of {count} deliveries arrived in the {rate}/s step, none for {QUIET:?}"
            ),
        }
    }
    while let Some(poster) = posters.join_next().await {
        posts.extend(poster??);
    }
    anyhow::ensure!(
        posts.len() == count,
        "{} of {count} posts answered",
        posts.len()
    );
    let mut round_trips: Vec<f64> = posts.iter().map(|(round_trip, _)| *round_trip).collect();
    round_trips.sort_by(f64::total_cmp);
    let late_max = posts.iter().map(|(_, late)| *late).fold(0.0, f64::max);
    let mut latencies: Vec<f64> = delivered
        .iter()
        .enumerate()
        .filter_map(|(k, at)| at.map(|at| ms(at.saturating_duration_since(due(k)))))
        .collect();
    let last = delivered.iter().flatten().max().context("no delivery")?;
    latencies.sort_by(f64::total_cmp);
    Ok(Step {
        events: count,
        achieved: (count - 1) as f64 / last.duration_since(start).as_secs_f64(),
        post_p99: quantile(&round_trips, 0.99),
        late_max,
        p50: quantile(&latencies, 0.5),
        p99: quantile(&latencies, 0.99),
        max: quantile(&latencies, 1.0),
    })
}
