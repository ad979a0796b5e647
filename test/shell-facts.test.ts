import { describe, expect, it } from "vitest";
import { extractShellFacts, MAX_COMMAND_LENGTH, sessionFacts } from "../runtime/facts/shell/index.js";

interface Expected {
  programs: string[];
  /** argument words that must be present */
  args?: string[];
  /** argument words that must be absent */
  notArgs?: string[];
  dynamic: boolean;
}

// [command, expected facts]
const cases: Array<[string, Expected]> = [
  // the attacks
  ["/bin/rm -rf /", { programs: ["rm"], args: ["-rf", "/"], dynamic: false }],
  ['sh -c "rm -rf /"', { programs: ["rm", "sh"], args: ["-rf", "/"], dynamic: false }],
  ["bash -lc 'systemctl stop x'", { programs: ["bash", "systemctl"], args: ["stop", "x"], dynamic: false }],
  ["$(echo rm) -rf /", { programs: ["echo"], args: ["-rf", "/"], dynamic: true }],
  ["`which rm`", { programs: ["which"], args: ["rm"], dynamic: true }],
  ['eval "rm -rf /"', { programs: ["eval"], dynamic: true }],
  ["X=rm; $X -rf /", { programs: [], args: ["-rf", "/"], dynamic: true }],
  ["sudo -u root rm", { programs: ["rm", "sudo"], args: ["-u", "root"], dynamic: false }],
  ["env -i rm", { programs: ["env", "rm"], args: ["-i"], dynamic: false }],
  ["timeout 5 rm", { programs: ["rm", "timeout"], args: ["5"], dynamic: false }],
  ["find / -exec rm {} \\;", { programs: ["find", "rm"], args: ["/", "-exec", "{}", ";"], dynamic: false }],
  ["xargs rm", { programs: ["rm", "xargs"], dynamic: false }],
  ["curl x | sh", { programs: ["curl", "sh"], args: ["x"], dynamic: true }],
  ["echo cm0= | base64 -d | bash", { programs: ["base64", "bash", "echo"], args: ["cm0=", "-d"], dynamic: true }],
  ["a && (b; c) | d", { programs: ["a", "b", "c", "d"], dynamic: false }],
  // quoting tricks
  ["r''m -rf /", { programs: ["rm"], dynamic: false }],
  ['"r"m -rf /', { programs: ["rm"], dynamic: false }],
  ["\\rm -rf /", { programs: ["rm"], dynamic: false }],
  ["'/bin/rm' x", { programs: ["rm"], args: ["x"], dynamic: false }],
  ["r\\\nm x", { programs: ["rm"], args: ["x"], dynamic: false }],
  ["$'\\x72m' -rf /", { programs: ["rm"], args: ["-rf"], dynamic: false }],
  ["$'\\162\\155' -rf /", { programs: ["rm"], dynamic: false }],
  ["./deploy.sh --now", { programs: ["deploy.sh"], args: ["--now"], dynamic: false }],
  // separators and comments
  ["ls\nrm x", { programs: ["ls", "rm"], dynamic: false }],
  ["ls # rm -rf /", { programs: ["ls"], notArgs: ["rm", "-rf"], dynamic: false }],
  ["cat <<E; rm x\nbody\nE", { programs: ["cat", "rm"], notArgs: ["body"], dynamic: false }],
  ["cat <<'E'\n$(rm x)\nE", { programs: ["cat"], dynamic: false }],
  ["uptime; df -h & ! grep -q x y || true", { programs: ["df", "grep", "true", "uptime"], args: ["-h", "-q"], dynamic: false }],
  // compound commands
  ["if true; then rm a; elif false; then cp a b; else mv a b; fi", { programs: ["cp", "false", "mv", "rm", "true"], dynamic: false }],
  ["while read l; do echo \"$l\"; done < f", { programs: ["echo", "read"], dynamic: false }],
  ["for f in a b; do cat \"$f\"; done", { programs: ["cat"], dynamic: false }],
  ["case $x in a) rm x;; *) ls;; esac", { programs: ["ls", "rm"], dynamic: false }],
  ["f() { shred x; }; f", { programs: ["f", "shred"], dynamic: false }],
  ["{ ls; rm x; } > out", { programs: ["ls", "rm"], notArgs: ["out"], dynamic: false }],
  ["[ -f x ] && cat x", { programs: ["[", "cat"], args: ["-f", "x"], dynamic: false }],
  // wrappers
  ["sudo -u deploy -- systemctl restart api", { programs: ["sudo", "systemctl"], args: ["restart", "api"], dynamic: false }],
  ["sudo --user=root VAR=1 rm x", { programs: ["rm", "sudo"], args: ["VAR=1"], dynamic: false }],
  ["sudo -s", { programs: ["sudo"], dynamic: true }],
  ["sudo -X rm", { programs: ["rm", "sudo"], dynamic: true }],
  ["env FOO=bar LANG=C sh -c 'rm -rf /tmp/x'", { programs: ["env", "rm", "sh"], args: ["FOO=bar", "/tmp/x"], dynamic: false }],
  ["env -S 'rm -rf /'", { programs: ["env"], dynamic: true }],
  ["nice -n 5 ionice -c3 rm x", { programs: ["ionice", "nice", "rm"], dynamic: false }],
  ["nohup stdbuf -oL ./worker &", { programs: ["nohup", "stdbuf", "worker"], dynamic: false }],
  ["timeout -s KILL 10s rm x", { programs: ["rm", "timeout"], args: ["10s", "KILL"], dynamic: false }],
  ["time exec command rm x", { programs: ["command", "exec", "rm", "time"], dynamic: false }],
  ["builtin eval x", { programs: ["builtin", "eval"], dynamic: true }],
  ["xargs -0 -n1 rm", { programs: ["rm", "xargs"], args: ["-0", "-n1"], dynamic: false }],
  ["ls | xargs", { programs: ["echo", "ls", "xargs"], dynamic: false }],
  ["xargs -I{} sh -c '{}'", { programs: ["sh", "xargs"], dynamic: true }],
  ["chroot /srv/jail /bin/rm x", { programs: ["chroot", "rm"], args: ["/srv/jail"], dynamic: false }],
  ["chroot /srv/jail", { programs: ["chroot"], dynamic: true }],
  ["doas -u root rm x", { programs: ["doas", "rm"], dynamic: false }],
  ["su -c 'systemctl stop api' root", { programs: ["su", "systemctl"], args: ["stop", "root"], dynamic: false }],
  ["su - root", { programs: ["su"], dynamic: true }],
  ["find . -name '*.log' -execdir gzip {} +", { programs: ["find", "gzip"], args: ["*.log"], dynamic: false }],
  ["find . -exec sh -c 'rm \"$1\"' _ {} \\;", { programs: ["find", "rm", "sh"], dynamic: false }],
  ["busybox rm -rf /", { programs: ["busybox", "rm"], dynamic: false }],
  ["watch -n 5 'df -h; rm x'", { programs: ["df", "rm", "watch"], args: ["-h", "5"], dynamic: false }],
  ["watch -x systemctl status api", { programs: ["systemctl", "watch"], args: ["status"], dynamic: false }],
  ["flock /run/lock -c 'rm x'", { programs: ["flock", "rm"], args: ["/run/lock"], dynamic: false }],
  ["flock -n /run/lock setsid -f rm x", { programs: ["flock", "rm", "setsid"], dynamic: false }],
  ["sudo env -i nice bash -c 'sh -c \"rm x\"'", { programs: ["bash", "env", "nice", "rm", "sh", "sudo"], dynamic: false }],
  // shells
  ["bash -e -o pipefail -c 'make deploy'", { programs: ["bash", "make"], args: ["deploy", "pipefail"], dynamic: false }],
  ["sh script.sh arg", { programs: ["sh"], args: ["script.sh", "arg"], dynamic: false }],
  ["bash -s", { programs: ["bash"], dynamic: true }],
  ["sh <<EOF\nrm -rf /\nEOF", { programs: ["sh"], notArgs: ["rm"], dynamic: true }],
  ["bash <<< 'rm x'", { programs: ["bash"], dynamic: true }],
  ['sh -c "$X"', { programs: ["sh"], dynamic: true }],
  ["sh -c 'sh -c \"sh -c \\\"sh -c \\\\\\\"sh -c \\\\\\\\\\\\\\\"rm\\\\\\\\\\\\\\\"\\\\\\\"\\\"\"'", { programs: ["sh"], dynamic: true }],
  // run-time code
  ['"$CMD" -x', { programs: [], args: ["-x"], dynamic: true }],
  ["${X} y", { programs: [], args: ["y"], dynamic: true }],
  ["$((1+2))", { programs: [], dynamic: true }],
  ["/bin/r? x", { programs: ["r?"], dynamic: true }],
  ["/bin/{rm,ls} y", { programs: ["{rm,ls}"], dynamic: true }],
  ["diff <(ls a) <(ls b)", { programs: ["diff", "ls"], dynamic: true }],
  ["source ./env.sh", { programs: ["source"], dynamic: true }],
  [". ./env.sh", { programs: ["."], dynamic: true }],
  ["ls > $(rm x)", { programs: ["ls", "rm"], dynamic: true }],
  ["cat <<EOF\n$(rm x)\nEOF", { programs: ["cat", "rm"], dynamic: true }],
  ["echo \"`id`\"", { programs: ["echo", "id"], dynamic: true }],
  ["X='a[$(rm x)]'; echo $((X))", { programs: ["echo"], dynamic: true }],
  ["read 'a[$(rm x)]'", { programs: ["read"], dynamic: true }],
  ["declare -i n=5", { programs: ["declare"], dynamic: true }],
  ["echo ${!ref}", { programs: ["echo"], dynamic: true }],
  ["hash -p /bin/rm ls; ls /", { programs: ["hash", "ls"], dynamic: true }],
  // look-alikes that stay static
  ['echo "rm -rf /"', { programs: ["echo"], args: ["rm -rf /"], dynamic: false }],
  ["grep 'sh -c' file", { programs: ["grep"], args: ["sh -c", "file"], dynamic: false }],
  ["echo '$(rm x)' '`rm`'", { programs: ["echo"], args: ["$(rm x)", "`rm`"], dynamic: false }],
  ["echo $((1 + 2)) ${HOME} \"$USER\"", { programs: ["echo"], dynamic: false }],
  ["export PATH=/usr/bin LANG=C", { programs: ["export"], dynamic: false }],
  ["journalctl -u api -n 50 --no-pager | grep -i error", { programs: ["grep", "journalctl"], args: ["api", "50", "error"], dynamic: false }],
];

describe("extractShellFacts", { timeout: 120_000 }, () => {
  it.each(cases)("%j", async (command, want) => {
    const facts = await extractShellFacts(command);
    expect(facts.error, `unexpected error for ${JSON.stringify(command)}`).toBeUndefined();
    expect(facts.kind).toBe("exec");
    expect(facts.command).toBe(command);
    expect(facts.programs).toEqual(want.programs);
    expect(facts.dynamic).toBe(want.dynamic);
    expect(facts.args).toEqual(expect.arrayContaining(want.args ?? []));
    for (const absent of want.notArgs ?? []) expect(facts.args).not.toContain(absent);
  });

  it("sorts and deduplicates programs and args", async () => {
    const facts = await extractShellFacts("rm b; rm a; ls b");
    expect(facts.programs).toEqual(["ls", "rm"]);
    expect(facts.args).toEqual(["a", "b"]);
  });

  it.each([
    ["ls (", /line 1, column \d+/],
    ["if true; then", /line 1, column \d+/],
    ["echo 'unterminated", /line 1, column \d+/],
    ["sh -c 'rm ('", /nested shell/],
    ["echo ${x:$o:2}", /cannot parse near .* in the canonical form/],
    ["{rm,x} y", /cannot parse near/],
  ])("refuses %j with a located error", async (command, message) => {
    const facts = await extractShellFacts(command);
    expect(facts.error).toMatch(message);
    expect(facts.programs).toEqual([]);
    expect(facts.dynamic).toBe(true);
  });

  it("refuses a NUL byte and an over-long command instead of parsing them", async () => {
    expect((await extractShellFacts("ls\0rm")).error).toMatch(/NUL/);
    expect((await extractShellFacts("x".repeat(MAX_COMMAND_LENGTH + 1))).error).toMatch(/at most/);
  });

  it("never throws on arbitrary shell-ish text", async () => {
    const alphabet = ["rm", "sh", "-c", " ", "'", '"', "\\", "$", "(", ")", "`", "{", "}", ";", "|", "&", "<", ">", "\n", "#", "x", "=", "[", "]", "*", "!"];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 60; n++) {
      const text = Array.from({ length: 1 + (next() % 24) }, () => alphabet[next() % alphabet.length]).join("");
      const facts = await extractShellFacts(text);
      expect(facts.kind).toBe("exec");
      if (facts.error === undefined) expect(Array.isArray(facts.programs)).toBe(true);
      else expect(facts.programs).toEqual([]);
    }
  });

  it("handles concurrent calls independently", async () => {
    const commands = ["ls", "rm x", "sh -c 'df'", "eval x"];
    const all = await Promise.all(commands.map((c) => extractShellFacts(c)));
    expect(all.map((f) => f.programs)).toEqual([["ls"], ["rm"], ["df", "sh"], ["eval"]]);
    expect(all.map((f) => f.dynamic)).toEqual([false, false, false, true]);
  });
});

describe("sessionFacts", () => {
  it.each(["shell", "sftp", "port_forward", "agent_forward", "x11"] as const)("%s carries no command", (kind) => {
    expect(sessionFacts(kind)).toEqual({ kind, programs: [], args: [], dynamic: false });
  });

  it("refuses exec without a command", () => {
    expect(sessionFacts("exec").error).toMatch(/needs its command/);
  });
});
