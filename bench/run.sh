#!/usr/bin/env bash
# npm run bench: tengine against the direct call and against the peers, in one run.
#
# Builds the project, installs the peers into bench/.peers if missing, creates fresh PostgreSQL
# databases and a NATS subject prefix of its own, starts the echo upstream, every peer, tengine as
# five processes over NATS and tengine's single-process mode, runs the sections below, writes
# bench/out/<time>/ (raw JSON lines, logs, report), bench/RESULTS.md and
# bench/latency-vs-concurrency.svg, and stops and drops everything it started, also on failure or
# Ctrl-C. Everything listens on 127.0.0.1.
#
# Sections (SECTIONS, default: all, in this order):
#   matrix     direct, every peer, tengine (API key), tengine-session (member session token),
#              tengine-embedded (single process) at c = CONCURRENCY, REPS repetitions, target order
#              reversed on every other repetition
#   breakdown  Server-Timing phases of tools/call at c=1 (tengine and tengine-embedded)
#   tools      projects with TOOL_COUNTS tools: tools/call latency and tools/list pages
#   memory     gateway RSS/heap per MEM_SESSIONS idle MCP sessions, with GET streams, after close
#   executors  tengine at c=EXEC_CONCURRENCY with 1 and 2 executor processes
#   hold       (debugging, not in the default) start everything, then wait HOLD seconds (600)
#
# Settings (environment):
#   DURATION           measured seconds per load run (default 10)
#   REPS               repetitions (default 3; at least 3 for a median worth the name)
#   CONCURRENCY        matrix concurrencies (default "1 8 32")
#   RUN_WARMUP         unmeasured seconds at the start of each run (default 1)
#   WARMUP             seconds of warm-up per target before the matrix, at c=8 (default 3)
#   PEERS              peers of the shared harness (default: all five; "" for none)
#   TENGINE_TARGETS    default "tengine tengine-session tengine-embedded"
#   BREAKDOWN_DURATION seconds per breakdown run (default DURATION)
#   TOOL_COUNTS        default "1 100 10000"; SCALE_CONCURRENCY default "1 32"
#   MEM_SESSIONS       default 1000; MEM_ROUNDS default 2
#   EXEC_CONCURRENCY   default 32
#   BASE_PORT          upstream port; everything else takes the next 25 ports (default 28080)
#   OUT_DIR            default bench/out/<UTC time>
#   WRITE_RESULTS      1 (default): also write bench/RESULTS.md and bench/latency-vs-concurrency.svg
#   SKIP_BUILD         1: do not run npm run build
#   TENGINE_LOG_LEVEL  log level of the tengine processes (default warn)
#   DRY_RUN            1: print the expected duration and stop
#   BENCH_PG_URL       admin connection (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_NATS_URL     default nats://127.0.0.1:4222
# Short run: DURATION=3 REPS=1 WARMUP=1 TOOL_COUNTS="1 100" MEM_SESSIONS=200 npm run bench
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
cd "$BENCH_DIR"

: "${SECTIONS:=matrix breakdown tools memory executors}"
: "${PEERS=sdk-stateless sdk-stateful sdk-stateful-json openapi-mcp-server fastmcp}"
: "${TENGINE_TARGETS=tengine tengine-session tengine-embedded}"
: "${CONCURRENCY:=1 8 32}"
: "${DURATION:=10}"
: "${REPS:=3}"
: "${RUN_WARMUP:=1}"
: "${WARMUP:=3}"
: "${BREAKDOWN_DURATION:=$DURATION}"
: "${TOOL_COUNTS:=1 100 10000}"
: "${SCALE_CONCURRENCY:=1 32}"
: "${MEM_SESSIONS:=1000}"
: "${MEM_ROUNDS:=2}"
: "${EXEC_CONCURRENCY:=32}"
: "${BASE_PORT:=28080}"
: "${OUT_DIR:=$BENCH_DIR/out/$(date -u +%Y%m%dT%H%M%SZ)}"
: "${WRITE_RESULTS:=1}"
: "${SKIP_BUILD:=0}"
: "${TENGINE_LOG_LEVEL:=warn}"
: "${BENCH_PG_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
: "${BENCH_NATS_URL:=nats://127.0.0.1:4222}"
export BENCH_PG_URL BENCH_NATS_URL

has_section() { [[ " $SECTIONS " == *" $1 "* ]]; }
has_target() { [[ " $TARGETS " == *" $1 "* ]]; }
words() { wc -w <<< "$1" | tr -d ' '; }
TARGETS="direct $PEERS $TENGINE_TARGETS"
TARGETS=$(xargs <<< "$TARGETS")

# ---- expected duration ---------------------------------------------------------------------------
per_run=$((DURATION + RUN_WARMUP + 1))
est=40 # build, start-up, fixtures, report
if has_section matrix; then
  est=$((est + $(words "$TARGETS") * (WARMUP + 1) + $(words "$TARGETS") * $(words "$CONCURRENCY") * REPS * per_run))
fi
has_section breakdown && est=$((est + 2 * (BREAKDOWN_DURATION + RUN_WARMUP + 1)))
if has_section tools; then
  tool_sum=0
  for n in $TOOL_COUNTS; do tool_sum=$((tool_sum + n)); done
  est=$((est + tool_sum / 50 + $(words "$TOOL_COUNTS") * ($(words "$SCALE_CONCURRENCY") * REPS * per_run + 5)))
fi
has_section memory && est=$((est + MEM_ROUNDS * (4 * 3 + MEM_SESSIONS / 200) + 15))
has_section executors && est=$((est + REPS * (2 * per_run + 6)))
echo "# tengine benchmark: sections {$SECTIONS}; expected duration about $(((est + 59) / 60)) min (until about $(date -d "+$est sec" '+%H:%M'))" >&2
echo "# output: $OUT_DIR" >&2
[ "${DRY_RUN:-0}" = 1 ] && exit 0

mkdir -p "$OUT_DIR"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED_AT=$(date -u '+%Y-%m-%d %H:%M UTC')
RESULTS="$OUT_DIR/results.jsonl"
RSS="$OUT_DIR/rss.jsonl"
: > "$RESULTS"
: > "$RSS"
TG() { node "$BENCH_DIR/tengine.mjs" "$@"; }

# ---- process and resource bookkeeping: everything is stopped/dropped on exit -----------------------
declare -A PID=()
STARTED=()
DRIVER_PID=
DATABASES=()
PREFIX=
stop_pids() { # pid... : TERM, wait up to 5 s, then KILL
  local p alive
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0
    sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}
forget() { # pid: stopped already, not to be signalled again
  local keep=() p
  for p in "${STARTED[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  STARTED=("${keep[@]}")
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$DRIVER_PID" ] && STARTED+=("$DRIVER_PID")
  [ ${#STARTED[@]} -gt 0 ] && stop_pids "${STARTED[@]}"
  if [ -n "$PREFIX" ]; then
    TG stream-delete "$PREFIX" > /dev/null 2>&1 || echo "run.sh: could not delete the runs stream of prefix $PREFIX" >&2
  fi
  for db in "${DATABASES[@]}"; do
    TG db-drop "$db" || echo "run.sh: could not drop database $db" >&2
  done
  [ $rc != 0 ] && echo "run.sh: stopped with status $rc; logs in $OUT_DIR" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

launch() { # name port command... (does not wait)
  local name=$1 port=$2
  shift 2
  if port_open "$port"; then
    echo "run.sh: port $port (for $name) is already in use; set BASE_PORT to a free range" >&2
    exit 1
  fi
  "$@" >> "$OUT_DIR/$name.log" 2>&1 &
  local pid=$!
  STARTED+=("$pid")
  PID[$name]=$pid
}
await_port() { # name port [seconds]
  local name=$1 port=$2 tries=$((${3:-30} * 10)) pid=${PID[$1]}
  for _ in $(seq 1 "$tries"); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: $name exited during start-up; its log:" >&2
      tail -30 "$OUT_DIR/$name.log" >&2
      exit 1
    fi
    port_open "$port" && return 0
    sleep 0.1
  done
  echo "run.sh: $name did not listen on port $port in time; its log:" >&2
  tail -30 "$OUT_DIR/$name.log" >&2
  exit 1
}
start() { # name port command...
  launch "$@"
  await_port "$1" "$2"
}
await_ready() { # name port
  await_port "$1" "$2" 90
  if ! TG wait-ready "http://127.0.0.1:$2" 90; then
    tail -30 "$OUT_DIR/$1.log" >&2
    exit 1
  fi
}

mem_line() { # name pid phase
  local s rss hwm
  s=$(cat "/proc/$2/status" 2>/dev/null) || return 0
  rss=$(awk '/^VmRSS:/ {print $2}' <<< "$s")
  hwm=$(awk '/^VmHWM:/ {print $2}' <<< "$s")
  printf '{"name":"%s","phase":"%s","rss":%s,"hwm":%s}\n' "$1" "$3" \
    "$(awk "BEGIN{printf \"%.1f\", $rss/1024}")" "$(awk "BEGIN{printf \"%.1f\", $hwm/1024}")" >> "$RSS"
}

# ---- 0. prerequisites, build, peers, databases ------------------------------------------------------
if [ ! -d "$ROOT/node_modules" ]; then
  echo "run.sh: $ROOT/node_modules is missing; run npm ci first" >&2
  exit 1
fi
if [ "$SKIP_BUILD" != 1 ]; then
  echo "# building (npm run build)" >&2
  (cd "$ROOT" && npm run build --silent) > "$OUT_DIR/build.log" 2>&1 || {
    tail -30 "$OUT_DIR/build.log" >&2
    echo "run.sh: the build failed (log: $OUT_DIR/build.log)" >&2
    exit 1
  }
fi
if [ ! -d node_modules/@modelcontextprotocol/sdk ] || [ ! -d node_modules/undici ] ||
  [ ! -d node_modules/fastmcp ] || [ ! -d node_modules/@ivotoby/openapi-mcp-server ]; then
  echo "# installing the peers into bench/.peers" >&2
  bash ./setup-peers.sh > "$OUT_DIR/setup-peers.log" 2>&1 || {
    cat "$OUT_DIR/setup-peers.log" >&2
    exit 1
  }
fi
TG pg-check || { echo "run.sh: PostgreSQL is not reachable at $BENCH_PG_URL" >&2; exit 1; }
TG nats-check || { echo "run.sh: NATS with JetStream is not reachable at $BENCH_NATS_URL" >&2; exit 1; }

RUN_ID="$(date -u +%H%M%S)_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
need_stack=0
for t in tengine tengine-session; do has_target "$t" && has_section matrix && need_stack=1; done
for s in breakdown tools memory executors hold; do has_section "$s" && need_stack=1; done
need_embedded=0
if has_target tengine-embedded && { has_section matrix || has_section breakdown || has_section hold; }; then need_embedded=1; fi

SECRET_KEYS=$(TG keyring)
ADMIN_TOKEN="bench_adm_$(head -c 36 /dev/urandom | base64 | tr -d '/+=\n')"
if [ $need_stack = 1 ]; then
  DB_STACK="bench_${RUN_ID}_stack"
  PREFIX="bench_${RUN_ID}"
  TG db-create "$DB_STACK"
  DATABASES+=("$DB_STACK")
fi
if [ $need_embedded = 1 ]; then
  DB_EMB="bench_${RUN_ID}_embedded"
  TG db-create "$DB_EMB"
  DATABASES+=("$DB_EMB")
fi

# ---- 1. start everything --------------------------------------------------------------------------
UP_PORT=$BASE_PORT
UPSTREAM="http://127.0.0.1:$UP_PORT"
declare -A PORT=(
  [sdk-stateless]=$((BASE_PORT + 1))
  [sdk-stateful]=$((BASE_PORT + 2))
  [sdk-stateful-json]=$((BASE_PORT + 3))
  [openapi-mcp-server]=$((BASE_PORT + 4))
  [fastmcp]=$((BASE_PORT + 5))
  [fastmcp-stateless]=$((BASE_PORT + 6))
  [sdk-stateless-json]=$((BASE_PORT + 7))
  [gateway]=$((BASE_PORT + 10))
  [registry]=$((BASE_PORT + 11))
  [identity]=$((BASE_PORT + 12))
  [executor]=$((BASE_PORT + 13))
  [audit]=$((BASE_PORT + 14))
  [executor2]=$((BASE_PORT + 15))
  [platform]=$((BASE_PORT + 20))
)
echo "# starting the upstream, peers and tengine" >&2
start upstream "$UP_PORT" node echo-upstream.mjs "$UP_PORT"
for t in $PEERS; do
  case $t in
    sdk-stateless) start "$t" "${PORT[$t]}" node peers/sdk-bridge.mjs --mode stateless --port "${PORT[$t]}" --upstream "$UPSTREAM" ;;
    sdk-stateless-json) start "$t" "${PORT[$t]}" node peers/sdk-bridge.mjs --mode stateless --json-response --port "${PORT[$t]}" --upstream "$UPSTREAM" ;;
    sdk-stateful) start "$t" "${PORT[$t]}" node peers/sdk-bridge.mjs --mode stateful --port "${PORT[$t]}" --upstream "$UPSTREAM" ;;
    sdk-stateful-json) start "$t" "${PORT[$t]}" node peers/sdk-bridge.mjs --mode stateful --json-response --port "${PORT[$t]}" --upstream "$UPSTREAM" ;;
    openapi-mcp-server)
      start "$t" "${PORT[$t]}" node node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js \
        --api-base-url "$UPSTREAM" --openapi-spec "$UPSTREAM/openapi.json" \
        --transport http --host 127.0.0.1 --port "${PORT[$t]}" --path /mcp --verbose false ;;
    fastmcp) start "$t" "${PORT[$t]}" node peers/fastmcp-bridge.mjs --port "${PORT[$t]}" --upstream "$UPSTREAM" ;;
    fastmcp-stateless) start "$t" "${PORT[$t]}" node peers/fastmcp-bridge.mjs --stateless --port "${PORT[$t]}" --upstream "$UPSTREAM" ;;
    *) echo "run.sh: unknown peer $t" >&2; exit 1 ;;
  esac
done

# Environment of every tengine process (each reads what it knows; see apps/*/src/env.schema.ts).
tengine_env() { # port database
  printf '%s\n' \
    "NATS_URL=$BENCH_NATS_URL" "NATS_SUBJECT_PREFIX=$PREFIX" "DATABASE_URL=${BENCH_PG_URL%/*}/$2" \
    "PORT=$1" HOST=127.0.0.1 "LOG_LEVEL=$TENGINE_LOG_LEVEL" SHUTDOWN_GRACE_MS=3000 \
    "TENGINE_SECRET_KEYS=$SECRET_KEYS" "TENGINE_ADMIN_TOKEN=$ADMIN_TOKEN" \
    TENGINE_ALLOW_HTTP_HOSTS=127.0.0.1 TENGINE_EGRESS_ALLOW=127.0.0.1/32 \
    MCP_PRINCIPAL_CONCURRENCY=4096 MCP_PROJECT_CONCURRENCY=16384 MCP_MAX_STREAMS=100000
}
launch_service() { # name app [node flags...]
  local env=()
  mapfile -t env < <(tengine_env "${PORT[$1]}" "$DB_STACK")
  local name=$1 app=$2
  shift 2
  launch "$name" "${PORT[$name]}" env "${env[@]}" node "$@" "$ROOT/apps/$app/dist/main.js"
}
TENGINE_PROCS=()
if [ $need_stack = 1 ]; then
  for svc in registry identity executor audit; do launch_service "$svc" "$svc"; done
  for svc in registry identity executor audit; do await_ready "$svc" "${PORT[$svc]}"; done
  # SIGUSR2 makes the gateway collect garbage (bench/gc-on-signal.cjs): memory is read after a full GC.
  launch_service gateway gateway --expose-gc --require "$BENCH_DIR/gc-on-signal.cjs"
  await_ready gateway "${PORT[gateway]}"
  TENGINE_PROCS=(gateway registry identity executor audit)
fi
if [ $need_embedded = 1 ]; then
  env_emb=()
  mapfile -t env_emb < <(tengine_env "${PORT[platform]}" "$DB_EMB" | grep -v -e '^NATS_URL=' -e '^NATS_SUBJECT_PREFIX=')
  launch platform "${PORT[platform]}" env "${env_emb[@]}" "TENGINE_DATA_DIR=$OUT_DIR/platform-data" \
    node "$ROOT/apps/platform/dist/main.js"
  await_ready platform "${PORT[platform]}"
fi
NATS_PID=$(ss -Hltnp "sport = :${BENCH_NATS_URL##*:}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)

# Fixtures through the REST API: project, integration, API key, the signed echo tool, assertion key.
GW="http://127.0.0.1:${PORT[gateway]}"
EMB="http://127.0.0.1:${PORT[platform]}"
if [ $need_stack = 1 ]; then
  TG setup --url "$GW" --admin "$ADMIN_TOKEN" --upstream "$UPSTREAM" --out "$OUT_DIR/tengine.json" --name bench > /dev/null
fi
if [ $need_embedded = 1 ]; then
  TG setup --url "$EMB" --admin "$ADMIN_TOKEN" --upstream "$UPSTREAM" --out "$OUT_DIR/tengine-embedded.json" --name bench-embedded > /dev/null
fi
cfg() { node -p "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))[process.argv[2]]" "$1" "$2"; }

PID[direct]=${PID[upstream]}
MEM_NAMES=(upstream)
for t in $PEERS; do MEM_NAMES+=("$t"); done
[ $need_stack = 1 ] && MEM_NAMES+=("${TENGINE_PROCS[@]}")
[ $need_embedded = 1 ] && MEM_NAMES+=(platform)
sleep 0.5
for n in "${MEM_NAMES[@]}"; do mem_line "$n" "${PID[$n]}" idle; done

# ---- how to drive each target -----------------------------------------------------------------------
API_KEY_OVERRIDE=
driver_args() { # target -> one flag per line
  local t=$1 p
  case $t in
    direct) printf '%s\n' --mode http --url "$UPSTREAM/echo" --watch "target=${PID[upstream]}" ;;
    tengine | tengine-session)
      local token
      if [ "$t" = tengine-session ]; then
        token=$(TG mint --config "$OUT_DIR/tengine.json") # 15-minute token: a fresh one per run
      else
        token=${API_KEY_OVERRIDE:-$(cfg "$OUT_DIR/tengine.json" apiKey)}
      fi
      printf '%s\n' --url "$GW/mcp" --tool echo -H "Authorization: Bearer $token"
      for p in "${TENGINE_PROCS[@]}"; do printf '%s\n' --watch "$p=${PID[$p]}"; done
      [ -n "${PID[executor2]:-}" ] && kill -0 "${PID[executor2]}" 2>/dev/null && printf '%s\n' --watch "executor2=${PID[executor2]}"
      [ -n "$NATS_PID" ] && printf '%s\n' --watch "nats=$NATS_PID"
      printf '%s\n' --watch "upstream=${PID[upstream]}"
      ;;
    tengine-embedded)
      printf '%s\n' --url "$EMB/mcp" --tool echo -H "Authorization: Bearer $(cfg "$OUT_DIR/tengine-embedded.json" apiKey)"
      printf '%s\n' --watch "platform=${PID[platform]}" --watch "upstream=${PID[upstream]}"
      ;;
    *) printf '%s\n' --url "http://127.0.0.1:${PORT[$t]}/mcp" --tool echo --watch "target=${PID[$t]}" --watch "upstream=${PID[upstream]}" ;;
  esac
  printf '%s\n' --name "$t" --upstream-stats "$UPSTREAM/stats"
}

LINE_FILE="$OUT_DIR/.last-run.json"
drive() { # target concurrency duration warmup extra-args... ; sets $line
  local t=$1 c=$2 d=$3 w=$4 rc=0
  shift 4
  local args=()
  mapfile -t args < <(driver_args "$t")
  # In the background + wait, so that INT/TERM stop the run at once, not after this run.
  node mcp-load.mjs "${args[@]}" -c "$c" -d "$d" --warmup "$w" "$@" > "$LINE_FILE" 2>> "$OUT_DIR/driver.log" &
  DRIVER_PID=$!
  wait "$DRIVER_PID" || rc=$?
  DRIVER_PID=
  line=$(cat "$LINE_FILE")
  return $rc
}
summary() { node -p 'const r = JSON.parse(process.argv[1]); `${r.rps} rps, p50 ${r.p50} µs, p99 ${r.p99} µs, errors ${r.errors}` + (r.errors ? ` (${r.error_sample})` : "")' "$1"; }

# ---- 2. matrix ----------------------------------------------------------------------------------------
if has_section matrix; then
  echo "# warm-up (${WARMUP}s per target, c=8)" >&2
  RUN_TARGETS=()
  for t in $TARGETS; do
    if drive "$t" 8 "$WARMUP" 0 --tag section=warmup; then
      echo "$line" >> "$OUT_DIR/warmup.jsonl"
      errs=$(node -p 'JSON.parse(process.argv[1]).errors' "$line")
      echo "  $t: $(summary "$line")" >&2
      if [ "$errs" != 0 ]; then
        echo "  $t: errors during warm-up, left out of the matrix" >&2
        [ "$t" = direct ] && exit 1
        continue
      fi
      RUN_TARGETS+=("$t")
    else
      echo "  $t: the driver failed (see $OUT_DIR/driver.log); left out of the matrix" >&2
      tail -3 "$OUT_DIR/driver.log" | sed 's/^/    /' >&2
      [ "$t" = direct ] && exit 1
    fi
  done
  n_total=$((REPS * $(words "$CONCURRENCY") * ${#RUN_TARGETS[@]}))
  echo "# matrix: ${#RUN_TARGETS[@]} targets x c={$CONCURRENCY} x $REPS reps x ${DURATION}s = $n_total runs" >&2
  i=0
  for rep in $(seq 1 "$REPS"); do
    order=("${RUN_TARGETS[@]}")
    if [ $((rep % 2)) = 0 ]; then
      order=()
      for ((k = ${#RUN_TARGETS[@]} - 1; k >= 0; k--)); do order+=("${RUN_TARGETS[$k]}"); done
    fi
    for c in $CONCURRENCY; do
      for t in "${order[@]}"; do
        i=$((i + 1))
        if drive "$t" "$c" "$DURATION" "$RUN_WARMUP" --tag "rep=$rep" --tag section=matrix; then
          echo "$line" >> "$RESULTS"
          echo "  [$i/$n_total] rep=$rep c=$c $t: $(summary "$line")" >&2
        else
          echo "  [$i/$n_total] rep=$rep c=$c $t: driver failed (see $OUT_DIR/driver.log)" >&2
        fi
      done
    done
  done
fi

# ---- 3. breakdown at c=1 (Server-Timing) ----------------------------------------------------------------
if has_section breakdown; then
  echo "# breakdown: Server-Timing of tools/call at c=1, ${BREAKDOWN_DURATION}s" >&2
  for t in tengine tengine-embedded; do
    if [ "$t" = tengine ] && [ $need_stack != 1 ]; then continue; fi
    if [ "$t" = tengine-embedded ] && [ $need_embedded != 1 ]; then continue; fi
    if drive "$t" 1 "$BREAKDOWN_DURATION" "$RUN_WARMUP" --server-timing --tag section=breakdown; then
      echo "$line" >> "$OUT_DIR/breakdown.jsonl"
      if [ "$(node -p 'JSON.parse(process.argv[1]).server_timing === null' "$line")" = true ]; then
        echo "  $t: no Server-Timing header ($(summary "$line"))" >&2
      else
        echo "  $t: $(node -p 'const s = JSON.parse(process.argv[1]).server_timing; Object.entries(s).filter(([k]) => k !== "calls").map(([k, v]) => `${k} ${v.p50}`).join(", ") + " µs (p50)"' "$line")" >&2
      fi
    else
      echo "  $t: driver failed (see $OUT_DIR/driver.log)" >&2
    fi
  done
fi

# ---- 4. scale in tools ----------------------------------------------------------------------------------
if has_section tools; then
  echo "# tools: projects with {$TOOL_COUNTS} tools" >&2
  SCALE_OK=()
  for n in $TOOL_COUNTS; do
    if out=$(TG setup --url "$GW" --admin "$ADMIN_TOKEN" --upstream "$UPSTREAM" --out "$OUT_DIR/tools-$n.json" --tools "$n" --name "bench-scale"); then
      echo "$out" >> "$OUT_DIR/scale-setup.jsonl"
      echo "  project with $n tools: $(node -p 'const r = JSON.parse(process.argv[1]); `${r.tools} tools created` + (r.fillers.requested ? ` (${r.fillers.created} fillers in ${r.fillers.seconds} s)` : "") + (r.fillers.error ? `; creation stopped: ${r.fillers.error}` : "")' "$out")" >&2
      SCALE_OK+=("$n")
      # tools/list right after creation (rep 1 is the first listing the gateway serves), then warm.
      if TG list --config "$OUT_DIR/tools-$n.json" --reps 3 > "$OUT_DIR/.list.jsonl" 2>> "$OUT_DIR/driver.log"; then
        cat "$OUT_DIR/.list.jsonl" >> "$OUT_DIR/scale-list.jsonl"
        echo "    tools/list: $(tail -1 "$OUT_DIR/.list.jsonl" | node -p 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); `${r.listed_tools} tools in ${r.pages} pages, ${r.full_bytes} bytes, ${r.full_ms} ms (warm); first page ${r.first_page_bytes} bytes`')" >&2
      else
        echo "    tools/list failed: $(tail -1 "$OUT_DIR/driver.log")" >&2
      fi
    else
      echo "  project with $n tools: setup failed" >&2
    fi
  done
  for rep in $(seq 1 "$REPS"); do
    order=("${SCALE_OK[@]}")
    if [ $((rep % 2)) = 0 ]; then
      order=()
      for ((k = ${#SCALE_OK[@]} - 1; k >= 0; k--)); do order+=("${SCALE_OK[$k]}"); done
    fi
    for c in $SCALE_CONCURRENCY; do
      for n in "${order[@]}"; do
        API_KEY_OVERRIDE=$(cfg "$OUT_DIR/tools-$n.json" apiKey)
        actual=$(cfg "$OUT_DIR/tools-$n.json" tools)
        if drive tengine "$c" "$DURATION" "$RUN_WARMUP" --tag "rep=$rep" --tag section=tools --tag "tools=$n" --tag "tools_created=$actual"; then
          echo "$line" >> "$OUT_DIR/scale.jsonl"
          echo "  rep=$rep c=$c tools=$n: $(summary "$line")" >&2
        else
          echo "  rep=$rep c=$c tools=$n: driver failed: $(tail -1 "$OUT_DIR/driver.log")" >&2
        fi
        API_KEY_OVERRIDE=
      done
    done
  done
fi

# ---- 5. memory per idle session -------------------------------------------------------------------------
if has_section memory; then
  echo "# memory: $MEM_SESSIONS idle MCP sessions on the gateway, $MEM_ROUNDS rounds" >&2
  if TG memory --gc --config "$OUT_DIR/tengine.json" --pid "${PID[gateway]}" --sessions "$MEM_SESSIONS" \
    --rounds "$MEM_ROUNDS" > "$OUT_DIR/memory.jsonl" 2>> "$OUT_DIR/driver.log"; then
    node -e '
      for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean)) {
        const r = JSON.parse(l);
        console.error(`  round ${r.round} ${r.phase}: RSS ${r.rss} MiB, heap used ${r.heap_used} MiB` + (r.refused ? `, ${r.refused} streams refused: ${r.refusal}` : ""));
      }' "$OUT_DIR/memory.jsonl"
  else
    echo "  memory section failed: $(tail -3 "$OUT_DIR/driver.log")" >&2
  fi
fi

# ---- 6. executor scaling --------------------------------------------------------------------------------
if has_section executors; then
  echo "# executors: tengine at c=$EXEC_CONCURRENCY with 1 and 2 executor processes" >&2
  run_exec() { # count rep
    if drive tengine "$EXEC_CONCURRENCY" "$DURATION" "$RUN_WARMUP" --tag "rep=$2" --tag section=executors --tag "executors=$1"; then
      echo "$line" >> "$OUT_DIR/executors.jsonl"
      echo "  rep=$2 executors=$1: $(summary "$line")" >&2
    else
      echo "  rep=$2 executors=$1: driver failed" >&2
    fi
  }
  for rep in $(seq 1 "$REPS"); do
    [ $((rep % 2)) = 1 ] && run_exec 1 "$rep"
    launch_service executor2 executor
    await_ready executor2 "${PORT[executor2]}"
    run_exec 2 "$rep"
    stop_pids "${PID[executor2]}"
    forget "${PID[executor2]}"
    [ $((rep % 2)) = 0 ] && run_exec 1 "$rep"
  done
fi

# ---- debugging aid: SECTIONS="hold" keeps everything running for HOLD seconds (default 600) ---------------
if has_section hold; then
  echo "# hold: gateway $GW, embedded $EMB, configs in $OUT_DIR/*.json; Ctrl-C or ${HOLD:-600}s to stop" >&2
  sleep "${HOLD:-600}" &
  DRIVER_PID=$!
  wait "$DRIVER_PID" || true
  DRIVER_PID=
fi

# ---- 7. bookkeeping, report, plot ---------------------------------------------------------------------------
for n in "${MEM_NAMES[@]}"; do mem_line "$n" "${PID[$n]}" end; done
sleep 1 # let audit drain its last batch
[ $need_stack = 1 ] && TG verify --config "$OUT_DIR/tengine.json" --prefix "$PREFIX" >> "$OUT_DIR/verify.jsonl" 2>> "$OUT_DIR/driver.log" || true
[ $need_embedded = 1 ] && TG verify --config "$OUT_DIR/tengine-embedded.json" >> "$OUT_DIR/verify.jsonl" 2>> "$OUT_DIR/driver.log" || true

versions=$(node -e '
const v = (p) => { try { return require("./node_modules/" + p + "/package.json").version } catch { return "?" } };
console.log(["@modelcontextprotocol/sdk", "@ivotoby/openapi-mcp-server", "fastmcp", "undici"].map((p) => p + "@" + v(p)).join(", "))')
node -e '
const [date, nproc, cpu, mem, loadavg, loadafter, os, versions, npm, conc, duration, warm, reps, sections, nats, pg, commit] = process.argv.slice(1);
console.log(JSON.stringify({ date, nproc: Number(nproc), cpu, mem, loadavg, loadafter, node: process.version, npm, os, versions,
  concurrency: conc, duration: Number(duration), run_warmup: Number(warm), reps: Number(reps), sections, nats, postgres: pg, commit, baseline: "direct" }));' \
  "$STARTED_AT" "$(nproc)" \
  "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
  "$(awk '/^MemTotal:/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" \
  "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), kernel $(uname -r)" \
  "$versions" "$(npm --version)" "$CONCURRENCY" "$DURATION" "$RUN_WARMUP" "$REPS" "$SECTIONS" \
  "$( (nats-server --version 2>/dev/null || true) | head -1)" \
  "$( (psql --version 2>/dev/null || true) | head -1)" \
  "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || true)" > "$OUT_DIR/meta.json"

node report.mjs "$OUT_DIR" > "$OUT_DIR/report.md"
node plot.mjs "$OUT_DIR" > "$OUT_DIR/latency-vs-concurrency.svg"
if [ "$WRITE_RESULTS" = 1 ]; then
  cp "$OUT_DIR/report.md" "$BENCH_DIR/RESULTS.md"
  cp "$OUT_DIR/latency-vs-concurrency.svg" "$BENCH_DIR/latency-vs-concurrency.svg"
  (cd "$ROOT" && npx --no-install prettier --log-level warn --write bench/RESULTS.md) || true
  cat "$BENCH_DIR/RESULTS.md"
else
  cat "$OUT_DIR/report.md"
fi
echo >&2
echo "raw results and logs: $OUT_DIR" >&2
