// The command line of the interop scripts: `--name value` pairs. A missing required name, or a name without a
// value, prints the usage line and exits 2.
export function parseArgs (argv, required, usageLine) {
  const a = {}
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] == null) usage(usageLine)
    a[argv[i].slice(2)] = argv[i + 1]
  }
  for (const name of required) {
    if (a[name] == null) usage(usageLine)
  }
  return a
}

function usage (usageLine) {
  console.error(`usage: ${usageLine}`)
  process.exit(2)
}
