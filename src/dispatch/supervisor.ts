// The job supervisor: a few lines of POSIX sh, detached from the worker (so the job outlives it), that runs setup and
// run, records the phase and how the job ended, and ends the job's whole process tree before it records that.
import { OUTPUT_FILE } from '../lab/journal.ts'

/**
 * The tree of a job is every process in the supervisor's session or process group, plus, where /proc is, every
 * process whose environment carries the job's tag in LAB_JOB_TAG: children that called setsid or daemonized keep
 * their environment. (PR_SET_CHILD_SUBREAPER is out of reach of sh and node, and cgroups need a delegated cgroup v2.)
 * Without /proc (macOS, BSD): the process group only.
 *
 * $1 run dir, $2 setup command (may be empty), $3 run command, $4 the job's tag, $5 the grace period in ms between
 * SIGTERM and SIGKILL for what the job leaves running. A cancel writes its own grace to `stop` and sends SIGTERM to
 * the group: the supervisor traps it, gives the whole tree SIGTERM, SIGKILL after the grace, then records the exit
 * code. The tag is in the job's environment only, never in the supervisor's, so its helpers (grep, sleep) never match.
 *
 * It is on every job's path (its start, and between the job's exit and the end the worker records), so it starts as
 * few processes as it can: one `grep` lists the candidates (stat lines naming its group or session, environments
 * with the tag: 16 hex digits, so also a valid ERE), each checked before it is signalled (a stat line by its fields
 * after the last ") ", as a name may hold anything; an environment by a second, fixed-string grep), where a `read`
 * of every process's stat took ~80 us each (7 ms with 80 processes, more on a busy host). pid, phase and exit are
 * written in place by one short write each (no `mv`: a process per file); readers take a file once its line is
 * complete. Measured (scripts/bench/worker.mjs's trivial job): 20 -> 7 ms from start to exit, `sh -c` alone 2.7 ms.
 */
export const SUPERVISOR = `
d=$1 tag=$4 grace=$5
cd "$d" || exit 1
echo $$ > pid
trap 'stop=1' TERM INT HUP
tags=\${LAB_JOB_TAG:+$LAB_JOB_TAG,}$tag
pause() {
  if [ -z "$tick" ]; then
    tick=1 tick_ms=1000
    if sleep 0.1 2>/dev/null; then tick=0.1 tick_ms=100; return; fi
  fi
  sleep $tick
}
signal() {
  n=0 sig=$1
  if [ -r /proc/self/stat ]; then
    for f in $(grep -l -E -e "\\) [^Z] [0-9]+ ([0-9]+ )?$$ " -e "$tag" /proc/[0-9]*/stat /proc/[0-9]*/environ 2>/dev/null); do
      p=\${f#/proc/}; p=\${p%/*}
      [ "$p" = $$ ] && continue
      case $f in
      */stat)
        read -r s 2>/dev/null < "$f" || continue
        set -- \${s##*) }
        [ "$1" != Z ] && { [ "$3" = $$ ] || [ "$4" = $$ ]; } || continue ;;
      *) grep -q -F -e "$tag" "$f" 2>/dev/null || continue ;;
      esac
      kill -"$sig" "$p" 2>/dev/null && n=$((n+1))
    done
  else
    set -- $(ps -A -o pid= -o pgid= 2>/dev/null)
    while [ $# -ge 2 ]; do
      [ "$2" = $$ ] && [ "$1" != $$ ] && kill -"$sig" "$1" 2>/dev/null && n=$((n+1))
      shift 2
    done
  fi
  return 0
}
reap() {
  signal TERM
  waited=0
  while [ $n -gt 0 ]; do
    g=$grace
    [ -s stop ] && read -r g < stop
    case $g in ''|*[!0-9]*) g=$grace ;; esac
    [ $waited -ge $g ] && break
    pause
    waited=$((waited + tick_ms))
    signal 0
  done
  i=0
  while [ $n -gt 0 ] && [ $i -lt 100 ]; do
    signal KILL
    [ $n -gt 0 ] && pause
    i=$((i + 1))
    signal 0
  done
}
code=0
step() {
  printf '%s\\n' "$1" > phase
  (cd work && export LAB_JOB_TAG="$tags" && exec sh -c "$2") </dev/null >>"$d/${OUTPUT_FILE}" 2>&1 &
  child=$!
  while :; do
    if [ -n "$stop" ] && [ -z "$reaped" ]; then reaped=1; reap; fi
    wait $child
    code=$?
    kill -0 $child 2>/dev/null || break
  done
}
if [ -n "$2" ]; then
  step setting_up "$2"
  if [ $code -ne 0 ] || [ -n "$stop" ]; then reap; printf 'setup %s\\n' $code > exit; exit 0; fi
fi
step running "$3"
reap
printf 'run %s\\n' $code > exit
`

/** The arguments that start a job's supervisor with `sh` (its $0 names the run folder, which is how a pid is checked). */
export function supervisorArgs(dir: string, setup: string, run: string, tag: string, graceMs: number): string[] {
  return ['-c', SUPERVISOR, 'git-lab-supervisor', dir, setup, run, tag, String(Math.max(0, Math.round(graceMs)))]
}
