using System.Globalization;

namespace Atomic.Pipeline.Benchmarks;

internal sealed record BenchOptions(IReadOnlyList<int> Clients, int Count, string? Postgres, bool Stages)
{
    public string Store => Postgres is null ? "SQLite (components/)" : "PostgreSQL (components/variants/postgresql)";

    public static BenchOptions Parse(string[] args)
    {
        IReadOnlyList<int> clients = [16, 64];
        int count = 4000;
        string? postgres = Environment.GetEnvironmentVariable("ATOMIC_BENCH_POSTGRES");
        bool stages = false;
        for (int i = 0; i < args.Length; i += 2)
        {
            if (args[i] == "--stages")
            {
                stages = true;
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
                    clients = args[i + 1].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--count":
                    count = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--postgres":
                    postgres = args[i + 1];
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (use --clients N[,N...], --count N, --postgres CONNECTION, --stages)");
            }
        }

        return new BenchOptions(clients, count, postgres, stages);
    }
}
