# Helpers shared by the vikunja-sync VM tests (prepended to each testScript).
# Every wait is a condition (wait_until_succeeds / wait_for_*), never a sleep.
import json
import shlex

VIKUNJA_API = "http://127.0.0.1:3456/api/v1"
TW_USER = "alice"
VIKUNJA_USER = "alice"
VIKUNJA_PASSWORD = "e2e-Passw0rd-alice"


def vikunja(machine, method, path, token=None, body=None):
    """Call the Vikunja API on `machine` with curl; returns the decoded JSON answer."""
    cmd = ["curl", "--fail-with-body", "--silent", "--show-error", "-X", method]
    cmd += ["-H", "Content-Type: application/json"]
    if token is not None:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        cmd += ["--data", json.dumps(body)]
    cmd.append(VIKUNJA_API + path)
    out = machine.succeed(" ".join(shlex.quote(c) for c in cmd))
    return json.loads(out) if out.strip() else None


def provision_vikunja(machine, token_path):
    """Register a user through the real API, log in, create an API token carrying
    every permission Vikunja offers and store it (mode 0400) at `token_path`.
    Returns the user's session token (JWT) for the test's own API calls."""
    machine.wait_for_unit("vikunja.service")
    machine.wait_for_open_port(3456)
    machine.wait_until_succeeds(f"curl --fail --silent {VIKUNJA_API}/info")
    vikunja(
        machine,
        "POST",
        "/register",
        body={
            "username": VIKUNJA_USER,
            "email": f"{VIKUNJA_USER}@example.org",
            "password": VIKUNJA_PASSWORD,
        },
    )
    jwt = vikunja(
        machine,
        "POST",
        "/login",
        body={"username": VIKUNJA_USER, "password": VIKUNJA_PASSWORD},
    )["token"]
    # GET /routes: { group: { permission: route } }; grant all of them
    routes = vikunja(machine, "GET", "/routes", token=jwt)
    permissions = {g: sorted(r) for g, r in routes.items() if isinstance(r, dict)}
    api_token = vikunja(
        machine,
        "PUT",
        "/tokens",
        token=jwt,
        body={
            "title": "vikunja-sync",
            "expires_at": "2099-01-01T00:00:00Z",
            "permissions": permissions,
        },
    )["token"]
    directory = shlex.quote(token_path.rsplit("/", 1)[0])
    machine.succeed(
        f"install -d -m 0700 {directory}",
        f"(umask 077; printf %s {shlex.quote(api_token)} > {shlex.quote(token_path)})",
    )
    return jwt


def ensure_project(machine, jwt, title="Inbox"):
    """The id of the Vikunja project `title`, created if the user has none by that name."""
    for project in vikunja(machine, "GET", "/projects", token=jwt):
        if project["title"] == title:
            return project["id"]
    return vikunja(machine, "PUT", "/projects", token=jwt, body={"title": title})["id"]


def vikunja_search(jwt, title):
    """Shell command printing the tasks whose title matches (both API spellings)."""
    query = "s=" + title.replace(" ", "%20")
    auth = f"-H 'Authorization: Bearer {jwt}'"
    return (
        f"(curl --fail --silent {auth} '{VIKUNJA_API}/tasks/all?{query}'"
        f" || curl --fail --silent {auth} '{VIKUNJA_API}/tasks?{query}')"
    )


def wait_for_vikunja_task(machine, jwt, title, jq_extra="true"):
    """Wait until Vikunja has a task with this title (and `jq_extra` holds for it)."""
    jq = f"any(.[]; .title == {json.dumps(title)} and ({jq_extra}))"
    machine.wait_until_succeeds(
        vikunja_search(jwt, title) + " | jq -e " + shlex.quote(jq), timeout=180
    )


def find_vikunja_task(machine, jwt, title):
    tasks = json.loads(machine.succeed(vikunja_search(jwt, title)))
    return next(t for t in tasks if t["title"] == title)


def task(machine, args, user=TW_USER):
    """Run Taskwarrior as the user, quietly."""
    line = "task rc.verbose=nothing rc.confirmation=off " + args
    return machine.succeed(f"su - {user} -c {shlex.quote(line)}")


def wait_for_tw_task(machine, description, jq_extra="true", user=TW_USER):
    """Wait until `task export` on the machine has a task with this description."""
    jq = f"any(.[]; .description == {json.dumps(description)} and ({jq_extra}))"
    export = f"su - {user} -c 'task rc.verbose=nothing export'"
    machine.wait_until_succeeds(export + " | jq -e " + shlex.quote(jq), timeout=180)


def wait_for_watcher(machine, user=TW_USER):
    """tw-watcher runs as the system unit vikunja-sync-tw-watcher@<user> (no login needed)."""
    machine.wait_for_unit(f"vikunja-sync-tw-watcher@{user}.service")


def unit_property(machine, unit, name):
    return machine.succeed(f"systemctl show -P {name} {unit}").strip()


def config_file_of(machine, unit):
    """The --config path in a unit's ExecStart."""
    exec_start = unit_property(machine, unit, "ExecStart")
    return exec_start.split("--config ")[1].split()[0].rstrip(";")


def nats(args, seed=None, server="nats://127.0.0.1:4222"):
    """The natscli command line, as the given identity (an NKey seed file) or anonymous."""
    identity = f" --nkey {shlex.quote(seed)}" if seed else ""
    return f"nats --server {server}{identity} --timeout 5s {args}"


def jaeger_traces(service, lookback="1h"):
    """Shell command printing Jaeger's traces of one service (its query API, as the UI reads it)."""
    return (
        "curl --fail --silent "
        f"'http://127.0.0.1:16686/api/traces?service={service}&lookback={lookback}&limit=200'"
    )


# jq: ids of traces that hold a span of every service in $services and of tw-watcher on
# every host in $hosts (service.instance.id is the host id)
TRACE_SPANNING = r"""
.data[]
| select(
    ([.processes[].serviceName] | unique) as $present
    | ($services | all(. as $s | $present | index($s)))
  )
| select(
    ([.processes[] | select(.serviceName == "tw-watcher") | .tags[]?
      | select(.key == "service.instance.id") | .value] | unique) as $seen
    | ($hosts | all(. as $h | $seen | index($h)))
  )
| .traceID
"""


def traces_spanning(services, hosts):
    """Shell command printing the ids of traces that span these services and watcher hosts."""
    return (
        jaeger_traces(services[0])
        + " | jq -r --argjson services "
        + shlex.quote(json.dumps(services))
        + " --argjson hosts "
        + shlex.quote(json.dumps(hosts))
        + " "
        + shlex.quote(TRACE_SPANNING)
    )
