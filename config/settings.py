"""Typed settings, frozen; defaults here are the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.rules import RulesSettings

SECONDS = 1.0


@dataclass(frozen=True)
class DatabaseSettings:
    dsn: str | None = None  # a production TimescaleDB; None = the embedded cluster
    # The schema owner's DSN, for `hj212 db migrate` and `db retention`; None = `dsn`
    # (then the application runs with the owner's rights: see README, Database roles).
    owner_dsn: str | None = None
    home: Path = Path("var/pg")  # embedded cluster home (hj212 db up)
    port: int | None = None  # embedded cluster port; None = a free port


MINUTES = 60 * SECONDS
MB = 1 << 20


@dataclass(frozen=True)
class GatewaySettings:
    host: str = "127.0.0.1"  # 0.0.0.0 to accept field devices
    port: int = 9212
    workers: int = 1  # processes sharing the port (SO_REUSEPORT)
    serial_ports: tuple[str, ...] = ()  # "DEVICE[:BAUD]", e.g. "/dev/ttyUSB0:9600"
    max_segment: int = 9999  # bytes; the standard says 1024, real devices send more
    # Who may send: a frame from an MN not in the registry is ...
    #   quarantine: archived as 'quarantined' and answered, its values not stored, the
    #           connection never bound to the MN (no commands); a later registration
    #           does not take it over (it stays raw in the archive),
    #   accept: stored and answered like a registered station's (onboarding, demos:
    #           its data become the history of whoever is later registered under the MN),
    #   archive: archived raw as 'unauthorized', not answered,
    #   close: archived, then the connection is closed.
    unknown_station: str = "quarantine"
    bad_password: str = "close"  # a registered MN with the wrong PW: archive | close
    # Wrong passwords per MN (any source) and per source address within auth_window:
    # past either, a not yet authenticated connection's password is not even checked.
    auth_failures_per_mn: int = 5
    auth_failures_per_ip: int = 20
    auth_window: float = 10 * MINUTES
    registry_refresh: float = 30 * SECONDS
    # Limits (hostile or broken peers)
    idle_timeout: float = 65 * MINUTES  # no byte for this long: close (hourly senders + 5 min)
    first_frame_timeout: float = 2 * MINUTES  # no frame naming a station by then: close
    max_unidentified_per_ip: int = 200  # connections per address not yet identified
    frame_timeout: float = 30 * SECONDS  # a frame started must end within this (slowloris)
    # Garbage (no frame, bad CRC or syntax) per connection within auth_window, before or
    # after valid frames: close. Per source address: past max_garbage_per_ip in the
    # window it is counted, no longer archived, and the connection sending it is closed.
    max_garbage: int = 65536
    max_garbage_per_ip: int = 1 * MB
    max_future: float = 30 * MINUTES  # DataTime further ahead of the receive time: rejected
    max_connections: int = 19000  # in total, per process (this machine's fd limit is 20 k)
    max_connections_per_ip: int = 5000  # 4G carrier NAT puts many loggers behind one IP
    frames_per_second: float = 200.0  # per connection, token bucket
    frames_burst: int = 1000  # a backlog upload after an outage comes in bursts
    # Backpressure: stop reading sockets while this many frames wait for storage.
    queue_high: int = 20000
    queue_low: int = 5000
    # Durability when the database is unreachable: an fsync'ed append-only spool.
    spool_dir: Path = Path("var/spool")
    spool_max_bytes: int = 1024 * MB
    # Clock drift (DataTime/QN vs receive time): keep it; above the threshold send 1012.
    drift_threshold: float = 60 * SECONDS
    auto_time_correction: bool = False
    # the command dispatcher's safety net: every connected station's queued commands are
    # looked for this often (they are sent at once when notified: gateway/commands.py)
    command_poll: float = 2 * SECONDS
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9213  # /metrics (Prometheus) and /healthz; 0 = off
    log_format: str = "text"  # text | json
    run_rules: bool = True  # run the rules engine beside the gateway (one process per database)
    # Sign the chain heads and write them to $HJ212_ANCHOR_DIR (var/anchors) this often
    # (evidence/anchor.py; worker 0 only); 0 = never (`hj212 db anchor` from cron then).
    anchor_interval: float = 10 * MINUTES


FIVE_YEARS_DAYS = 1827  # 5 x 365 + 2 leap days
THREE_YEARS_DAYS = 1096  # 3 x 365 + 1 leap day


@dataclass(frozen=True)
class StorageSettings:
    max_batch: int = 2000  # frames per transaction (group commit by size)
    max_delay_ms: int = 20  # longest a frame waits for its batch to fill (group commit by time)
    writer_lanes: int = 2  # connections writing concurrently, stations split among them
    # Chunk intervals (storage/migrations/0003 explains the sizing); new chunks only.
    chunk_hours_frame: int = 12
    chunk_hours_measurement: int = 6
    chunk_hours_device_status: int = 12
    # Retention by drop_chunks, `hj212 db retention`; 0 keeps forever. Raw monitoring
    # records and ledgers: >= 5 years (排污许可管理条例 第十九条, 第二十一条).
    retention_days_frame: int = FIVE_YEARS_DAYS
    retention_days_measurement: int = FIVE_YEARS_DAYS
    retention_days_device_status: int = FIVE_YEARS_DAYS
    retention_days_audit: int = FIVE_YEARS_DAYS
    # The console's read counts (hj212.access_log): >= 3 years (docs/regulations.md §12,
    # seed 002 Art. 21: 日志记录保留时间不少于3年).
    retention_days_access: int = THREE_YEARS_DAYS
    # Compress chunks older than this, only where the server's TimescaleDB license offers
    # compression (not the Apache-2 edition); 0 = never.
    compress_after_days: int = 7


@dataclass(frozen=True)
class ConsoleSettings:
    enabled: bool = True  # `hj212 serve` runs the console beside the gateway
    host: str = "127.0.0.1"  # put a TLS reverse proxy in front to offer it further
    port: int = 8212
    # Key that signs session cookies; "" = a random key per process (sessions end at a
    # restart, and several processes cannot share them).
    session_secret: str = ""
    session_hours: float = 12.0  # a login lasts this long
    offline_factor: float = 3.0  # offline after this many expected intervals of silence
    poll_seconds: float = 5.0  # how often the pages refresh their data
    # Session cookies marked Secure (sent over HTTPS only): set it when the console is
    # reached through a TLS proxy, as it should be beyond the loopback.
    cookie_secure: bool = False
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the
    # client; empty = the TCP peer is the client, and the header is ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Sign-in throttling (storage/sign_in.py): failures of one name from one source, and
    # of any names from one source, per window; failed-sign-in audit entries per window.
    sign_in_failures: int = 5
    sign_in_source_failures: int = 30
    sign_in_window_minutes: float = 15.0
    sign_in_audit_budget: int = 100
    # Reads are counted per user, route, station, client and this interval; the first of
    # each is also chained in the audit log (storage/access_log.py).
    read_audit_minutes: float = 60.0
    max_body_bytes: int = 256 * 1024  # a larger request body is refused (413) unread
    rate_limit: str = "600/minute"  # requests per client address (429 beyond)
    own_process: bool = True  # `hj212 serve`/`demo` run it as a child process


@dataclass(frozen=True)
class BackfillSettings:
    """Back-fill (补传) requests to connected stations (docs/forwarding.md §6). Times are
    of the platform's clock, except ``every``."""

    enabled: bool = True
    every: float = 5 * MINUTES  # real seconds between two looks at the connected stations
    lookback_hours: int = 48  # how far back a missing hour is asked for
    grace: float = 10 * MINUTES  # an hour is missing once this long past its end
    min_interval: float = 30 * MINUTES  # one request per station at most this often
    max_hours: int = 24  # hours one request asks for at most (the oldest first)
    max_tries: int = 3  # requests in a row bringing nothing: then the station is reported
    retry_after: float = 24 * 60 * MINUTES  # ... and asked again only after this


@dataclass(frozen=True)
class Rewrite:
    """What a station is called towards one upstream (its MN and PW there)."""

    mn: str
    pw: str


# the uploads forwarded by default: real-time, minute, hourly, daily data and daily
# run times, and the device states (HJ 212-2017 Table 9)
FORWARDED_CNS = ("2011", "2051", "2061", "2031", "2041", "3020")


@dataclass(frozen=True)
class UpstreamSettings:
    """One ``[[upstream]]`` table: a platform above this one (docs/forwarding.md §2)."""

    name: str
    host: str
    port: int
    version: str = "2017"  # the upstream's protocol: 2017 | 2025 (RF=1, SM4)
    cns: tuple[str, ...] = FORWARDED_CNS
    stations: tuple[str, ...] = ()  # MNs forwarded; empty = every station
    # passthrough: the original bytes (the ack bit of Flag set, so that the upstream
    # answers 9014); rewrite: MN/PW replaced per station ([upstream.rewrite.<MN>])
    mode: str = "passthrough"
    password: str | None = None  # rewrite: the PW for stations without their own entry
    rewrite: dict[str, Rewrite] = field(default_factory=dict)
    sm4_key: str | None = None  # 2025: the upstream's key (32 hex digits)
    overtime: float = 10 * SECONDS  # wait this long for the upstream's 9014 ...
    recount: int = 3  # ... and resend this many times (HJ 212-2017 Table 1)
    lease: float = 60 * SECONDS  # a station's queue held by one sender this long
    backlog_after: float = 60 * SECONDS  # older when sent: backlog (RF=1 to 2025)
    behind_alarm: float = 60 * MINUTES  # oldest queued frame older than this: notice
    max_stations: int = 5000  # stations sent to at once (one connection each)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    # The rules engine's settings come from a TOML file of their own (config/rules.py),
    # read by the same load() once per process.
    rules: RulesSettings = field(default_factory=RulesSettings)
    upstreams: tuple[UpstreamSettings, ...] = ()  # [[upstream]] tables
    backfill: BackfillSettings = field(default_factory=BackfillSettings)
