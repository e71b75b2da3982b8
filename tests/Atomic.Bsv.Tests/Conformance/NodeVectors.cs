using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Atomic.Bsv.Tests.Conformance;

/// <summary>
/// The node conformance vectors shipped in @bsv/sdk@2.1.0 (bitcoin-sv/bitcoin-sv@90a1a00e and
/// bsv-blockchain/teranode@2355e57b), read with the column layouts documented in its NormativeVectors.test.ts.
/// </summary>
internal static class NodeVectors
{
    public static readonly string[] Sources = ["bitcoin-sv", "teranode"];

    private static readonly ConcurrentDictionary<string, IReadOnlyList<ScriptRow>> ScriptCache = new();
    private static readonly ConcurrentDictionary<string, IReadOnlyList<TxRow>> TxCache = new();
    private static readonly ConcurrentDictionary<string, IReadOnlyList<SighashRow>> SighashCache = new();

    public sealed record ScriptRow(string Source, int Index, ulong Amount, int TxVersion, string ScriptSig, string ScriptPubKey, string Flags, string Expected, string Comment);

    public sealed record Prevout(string TxId, uint Index, string ScriptPubKeyAsm, ulong Amount);

    public sealed record TxRow(string Source, int Index, IReadOnlyList<Prevout> Prevouts, string TxHex, IReadOnlyList<string> Flags);

    public sealed record SighashRow(string Source, int Index, string TxHex, string ScriptHex, int InputIndex, int HashType, string Regular, string Original);

    public static IReadOnlyList<ScriptRow> Scripts(string source) => ScriptCache.GetOrAdd(source, LoadScripts);

    public static IReadOnlyList<TxRow> Txs(string source, string file) => TxCache.GetOrAdd(source + "/" + file, _ => LoadTxs(source, file));

    public static IReadOnlyList<SighashRow> Sighashes(string source) => SighashCache.GetOrAdd(source, LoadSighashes);

    private static JsonElement[] Rows(string source, string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.NodeFixture(source, file)));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    private static ulong Amount(JsonElement e) =>
        (ulong)Math.Round(decimal.Parse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture) * 100_000_000m);

    private static List<ScriptRow> LoadScripts(string source)
    {
        var rows = new List<ScriptRow>();
        JsonElement[] raw = Rows(source, "script_tests.json");
        for (int index = 0; index < raw.Length; index++)
        {
            JsonElement[] r = raw[index].EnumerateArray().ToArray();
            if (r.Length <= 1)
            {
                continue; // a comment row
            }

            int o = 0;
            ulong amount = 0;
            if (r[0].ValueKind == JsonValueKind.Array)
            {
                amount = Amount(r[0][0]);
                o = 1;
            }

            // bitcoin-sv's newer file has a leading transaction-version column; teranode's does not.
            int version = 1;
            if (source == "bitcoin-sv")
            {
                version = int.Parse(r[o].GetString()!, CultureInfo.InvariantCulture);
                o++;
            }

            rows.Add(new ScriptRow(source, index, amount, version, r[o].GetString()!, r[o + 1].GetString()!, r[o + 2].GetString()!,
                r[o + 3].GetString()!, r.Length > o + 4 ? r[o + 4].GetString() ?? string.Empty : string.Empty));
        }

        return rows;
    }

    private static List<TxRow> LoadTxs(string source, string file)
    {
        var rows = new List<TxRow>();
        JsonElement[] raw = Rows(source, file);
        for (int index = 0; index < raw.Length; index++)
        {
            JsonElement[] r = raw[index].EnumerateArray().ToArray();
            if (r.Length <= 1 || r[0].ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var prevouts = new List<Prevout>();
            foreach (JsonElement p in r[0].EnumerateArray())
            {
                JsonElement[] f = p.EnumerateArray().ToArray();
                uint vout = unchecked((uint)f[1].GetInt64());
                prevouts.Add(new Prevout(f[0].GetString()!, vout, f[2].GetString()!, f.Length > 3 ? f[3].GetUInt64() : 0));
            }

            IReadOnlyList<string> flags = r[2].ValueKind == JsonValueKind.Array
                ? r[2].EnumerateArray().Select(x => x.GetString()!).ToArray()
                : [r[2].GetString()!];
            rows.Add(new TxRow(source, index, prevouts, r[1].GetString()!, flags));
        }

        return rows;
    }

    private static List<SighashRow> LoadSighashes(string source)
    {
        var rows = new List<SighashRow>();
        JsonElement[] raw = Rows(source, "sighash.json");
        for (int index = 0; index < raw.Length; index++)
        {
            JsonElement[] r = raw[index].EnumerateArray().ToArray();
            if (r.Length <= 1)
            {
                continue;
            }

            rows.Add(new SighashRow(source, index, r[0].GetString()!, r[1].GetString()!, r[2].GetInt32(), r[3].GetInt32(),
                r[4].GetString()!, r.Length > 5 ? r[5].GetString()! : string.Empty));
        }

        return rows;
    }
}
