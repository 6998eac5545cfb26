// The POSIX sh run on a host, one script per step. Scripts are constant text; every value reaches them as a quoted
// argument ($1, $2, ...: see shCommand), never spliced into the code.
import { METRICS_FILE, OUTPUT_FILE } from '../../lab/journal.ts'
import { PARAMS_FILE } from '../../lab/params.ts'

/** $1 workdir: made, its absolute path, the bare repository, the boot id, git's version, setsid. */
export const HELLO = `
case $1 in /*) ;; *) cd || exit 1 ;; esac
mkdir -p "$1/runs" "$1/artifacts" && cd "$1" && chmod 700 . || exit 3
[ -d repo.git ] || git init -q --bare repo.git >/dev/null 2>&1 || exit 4
printf 'root=%s\\n' "$(pwd -P)"
printf 'boot=%s\\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
printf 'git=%s\\n' "$(git --version 2>/dev/null)"
command -v setsid >/dev/null 2>&1 && echo setsid=1
exit 0
`

/** $1 repo, $2 commit: HAS if it has the commit, else the commits it has (newest first): what a pack need not carry. */
export const HAVE = `git -C "$1" cat-file -e "$2^{commit}" 2>/dev/null && { echo HAS; exit 0; }
git -C "$1" for-each-ref --sort=-committerdate --count=64 --format='%(objectname)' refs/lab/ 2>/dev/null; exit 0`

/** $1 repo, $2 commit: stdin is a pack; stored, and the commit kept by a ref. */
export const RECEIVE = `
git -C "$1" cat-file -e "$2^{commit}" 2>/dev/null && { cat >/dev/null; exit 0; }
git -C "$1" index-pack --stdin --fix-thin >/dev/null || exit 1
git -C "$1" update-ref "refs/lab/$2" "$2"
`

/**
 * alive: whether something of the run in $1 is alive: its supervisor (by pid, and its command line naming $1).
 * unwork: removes the run $2 of repository $1, its worktree with it. Never `git worktree prune`: it also removes the
 * admin folders other `worktree add`s have just made and not yet locked, and jobs of one host repository are
 * prepared at once. (A worktree git could not remove leaves its admin folder to git's own gc.)
 * gitwt ERRFILE ARGS: git ARGS, again while it fails on git's own race between worktree commands (one reads every
 * other worktree's admin files, and dies on one that a `worktree add` has made and not yet written, or that a
 * `worktree remove` is removing: `failed to read .git/worktrees/work3/commondir: Success`, `Invalid path
 * '/r/.git/worktrees/work15': No such file or directory`); its stderr in ERRFILE when it fails.
 */
const RUN_HELPERS = `
alive() {
  p=$(cat "$1/pid" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
  [ -r "/proc/$p/cmdline" ] || return 0
  tr '\\000' '\\n' < "/proc/$p/cmdline" | grep -qxF "$1"
}
unwork() {
  [ -e "$2/work/.git" ] && gitwt "$2/worktree.err" -C "$1" worktree remove --force --force "$2/work"
  rm -rf "$2"
}
gitwt() {
  e=$1; shift; i=0
  until git "$@" >/dev/null 2>"$e"; do
    i=$((i+1))
    [ $i -lt 8 ] && grep -qE "(failed to read|Invalid path|could not open) .*worktrees/[^/']+" "$e" || return 1
    sleep 0.1 2>/dev/null || sleep 1
  done
  rm -f "$e"
}
`

/**
 * $1 run dir, $2 repo, $3 commit ('' none), $4 params text, $5 job.json, $6 lock; stdin: the job's environment
 * (export lines). Prints BUSY when a job of this attempt is alive there.
 */
export const PREPARE = RUN_HELPERS + `
d=$1
if [ -e "$d" ]; then
  if alive "$d" && [ ! -s "$d/exit" ]; then cat >/dev/null; echo BUSY; exit 0; fi
  unwork "$2" "$d"
fi
umask 077
mkdir -p "$(dirname "$d")" && mkdir "$d" "$d/out" || exit 1
cat > "$d/env" || exit 1
: > "$d/${OUTPUT_FILE}"; : > "$d/${METRICS_FILE}"
printf '%s' "$4" > "$d/${PARAMS_FILE}"
printf '%s\\n' "$5" > "$d/job.json"
printf '%s\\n' "$6" > "$d/lock"
# (-f: a run folder removed by hand, or whose worktree git could not remove, may still be registered there)
if [ -n "$3" ]; then gitwt "$d/worktree.err" -C "$2" worktree add -q -f --detach "$d/work" "$3" || { cat "$d/worktree.err" >&2; exit 1; }
else mkdir "$d/work"; fi
echo OK
`

/** $1 run dir, $2 setup, $3 run, $4 tag, $5 grace ms, $6 the supervisor's text: started in a session of its own,
 *  once (a start sent again after a dropped connection finds \`started\` and does nothing). */
export const START = `
d=$1
cd "$d" || exit 1
( set -C; : > started ) 2>/dev/null || exit 0
. ./env || exit 1
if command -v setsid >/dev/null 2>&1; then s=setsid; else s=; fi
nohup $s sh -c "$6" git-lab-supervisor "$d" "$2" "$3" "$4" "$5" </dev/null >/dev/null 2>&1 &
exit 0
`

/** How the run in $1 stands, one key=value a line. Touches the lock: a live worker's lock stays fresh. */
const ONE = `
one() {
  d=$1
  [ -d "$d" ] || { echo gone=1; return 0; }
  a=0; alive "$d" && a=1
  printf 'alive=%s\\n' $a
  printf 'exit=%s\\n' "$(cat "$d/exit" 2>/dev/null)"
  printf 'phase=%s\\n' "$(cat "$d/phase" 2>/dev/null)"
  [ -s "$d/pid" ] && echo pid=1
  printf 'boot=%s\\n' "$boot"
  printf 'out=%s\\n' "$(wc -c < "$d/${OUTPUT_FILE}" 2>/dev/null)"
  printf 'met=%s\\n' "$(wc -c < "$d/${METRICS_FILE}" 2>/dev/null)"
  [ -f "$d/lock" ] && touch "$d/lock"
  return 0
}
boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
`

/** Each run dir given ($@): a line @@<dir>, then how it stands (one look at every job of a host per tick). */
export const POLL = RUN_HELPERS + ONE + `
for d; do printf '@@%s\\n' "$d"; one "$d"; done
exit 0
`

/** $1 file, $2 offset, $3 max bytes. */
export const READ = `tail -c +$(($2 + 1)) "$1" 2>/dev/null | head -c "$3"; exit 0`

/**
 * $1 run dir, $2 grace ms, $3 the job's tag. Asks the supervisor to stop (grace to stop, SIGTERM to its group), waits
 * for its exit record and the tree to be gone; a supervisor that is gone or stuck is replaced: what carries the tag is
 * killed from here.
 */
export const CANCEL = RUN_HELPERS + `
d=$1 grace=$2 tag=$3
tree() { grep -l -F -e "$tag" /proc/[0-9]*/environ 2>/dev/null | while IFS=/ read -r _ _ p _; do echo "$p"; done; }
if alive "$d"; then
  p=$(cat "$d/pid")
  printf '%s\\n' "$grace" > "$d/stop.tmp" && mv "$d/stop.tmp" "$d/stop"
  kill -TERM -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
  i=0; limit=$(( (grace + 5000) / 100 ))
  while [ $i -lt $limit ]; do
    if [ -s "$d/exit" ] || ! alive "$d"; then [ -z "$(tree)" ] && exit 0; fi
    sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1))
  done
  alive "$d" && kill -KILL -"$p" 2>/dev/null
fi
[ -n "$(tree)" ] || exit 0
for p in $(tree); do kill -TERM "$p" 2>/dev/null; done
i=0; while [ -n "$(tree)" ] && [ $i -lt $(( grace / 100 )) ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done
i=0; while [ -n "$(tree)" ] && [ $i -lt 50 ]; do for p in $(tree); do kill -KILL "$p" 2>/dev/null; done; sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done
exit 0
`

/** $1 run dir: each regular file under out/ as size NUL path NUL (symlinks are not followed). */
export const LIST_OUT = `
cd "$1/out" 2>/dev/null || exit 0
find . -type f -exec sh -c 'for f; do printf "%s\\000%s\\000" "$(wc -c < "$f")" "$f"; done' sh {} +
exit 0
`
/** $1 file. */
export const CAT = `cat "$1"`
/** $1 file: its SHA-256 (hex). */
export const SHA256 = `{ sha256sum "$1" 2>/dev/null || shasum -a 256 "$1"; } | cut -d' ' -f1`

/** $1 run dir, $2 repo, $3 keep (1/0), $4 where large artifacts stay ('' none), $5 the job's tag. */
export const CLEANUP = RUN_HELPERS + `
d=$1
[ -d "$d" ] || exit 0
if alive "$d" && [ ! -s "$d/exit" ]; then echo BUSY; exit 0; fi
for p in $(grep -l -F -e "$5" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do kill -KILL "$p" 2>/dev/null; done
if [ "$3" = 1 ]; then date > "$d/done"; rm -f "$d/lock"; exit 0; fi
if [ -n "$4" ]; then mkdir -p "$(dirname "$4")" && rm -rf "$4" && mv "$d/out" "$4"; fi
unwork "$2" "$d"
exit 0
`

/** $1 runs folder: each run not done as name NUL job.json NUL lock NUL fresh(1/0) NUL. */
export const ORPHANS = `
cd "$1" 2>/dev/null || exit 0
for d in */; do
  d=\${d%/}
  [ -s "$d/job.json" ] && [ ! -e "$d/done" ] || continue
  f=0; [ -n "$(find "$d/lock" -mmin -1 2>/dev/null)" ] && f=1
  printf '%s\\000%s\\000%s\\000%s\\000' "$d" "$(cat "$d/job.json")" "$(cat "$d/lock" 2>/dev/null)" $f
done
exit 0
`

/** $1 run dir, $2 lock text. */
export const LOCK = `[ -d "$1" ] && printf '%s\\n' "$2" > "$1/lock"`
