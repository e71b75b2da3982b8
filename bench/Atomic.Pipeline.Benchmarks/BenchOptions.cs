using System.Globalization;

namespace Atomic.Pipeline.Benchmarks;

internal sealed record BenchOptions(IReadOnlyList<int> Clients, int Count, string? Postgres, bool Stages, string Arc, string Until, bool Allocations = false)
{
    public const string Usage = "options: --clients N[,N...] (default 16,64), --count N (default 4000), --postgres CONNECTION, --arc devchain|stub, --until verified|broadcast, --stages, --allocations";

    public string Store => (Postgres is null ? "SQLite (components/)" : "PostgreSQL (components/variants/postgresql)")
        + (Arc == "stub" ? ", ARC: an in-process stub answering SEEN_ON_NETWORK" : ", ARC: the dev chain (full validation)");

    /// <summary>The options, or null when asked for help; a malformed option is an <see cref="ArgumentException"/>.</summary>
    public static BenchOptions? Parse(string[] args)
    {
        IReadOnlyList<int> clients = [16, 64];
        int count = 4000;
        string? postgres = Environment.GetEnvironmentVariable("ATOMIC_BENCH_POSTGRES");
        bool stages = false;
        bool allocations = false;
        string arc = "devchain";
        string until = "broadcast";
        for (int i = 0; i < args.Length; i += 2)
        {
            if (args[i] is "--help" or "-h")
            {
                return null;
            }

            if (args[i] == "--stages")
            {
                stages = true;
                i--;
                continue;
            }

            if (args[i] == "--allocations")
            {
                allocations = true;
                i--;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{args[i]} needs a value");
            }

            switch (args[i])
            {
                case "--clients":
                    clients = args[i + 1].Split(',').Select(c => Positive("--clients", c)).ToArray();
                    break;
                case "--count":
                    count = Positive("--count", args[i + 1]);
                    break;
                case "--arc":
                    arc = args[i + 1] is "devchain" or "stub" ? args[i + 1] : throw new ArgumentException("--arc is devchain or stub");
                    break;
                case "--until":
                    until = args[i + 1] is "verified" or "broadcast" ? args[i + 1] : throw new ArgumentException("--until is verified or broadcast");
                    break;
                case "--postgres":
                    postgres = args[i + 1];
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new BenchOptions(clients, count, postgres, stages, arc, until, allocations);
    }

    private static int Positive(string option, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{option} takes positive whole numbers, got '{text}'");
}
