using System.Text.Json;

namespace Atomic.Identity.Tests;

/// <summary>The JSON vectors copied into Vectors/ (their sources are in Vectors/README.md).</summary>
internal static class VectorFiles
{
    public static JsonElement Load(string relativePath)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Vectors", relativePath);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
    }

    /// <summary>The rows of a ts-stack conformance file, keyed by their id for theory case names.</summary>
    public static TheoryData<string> ConformanceIds(string relativePath)
    {
        var data = new TheoryData<string>();
        foreach (JsonElement v in Load(relativePath).GetProperty("vectors").EnumerateArray())
        {
            data.Add(v.GetProperty("id").GetString()!);
        }

        return data;
    }

    public static JsonElement ConformanceRow(string relativePath, string id) =>
        Load(relativePath).GetProperty("vectors").EnumerateArray().Single(v => v.GetProperty("id").GetString() == id);

    public static byte[] Bytes(JsonElement array) => array.EnumerateArray().Select(b => (byte)b.GetInt32()).ToArray();
}
