using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Atomic.Cli.Commands;

/// <summary>
/// Prints the demo's steps as they happen: readable lines, or with <c>--json</c> one JSON object per line
/// (<c>{"step": name, ...fields}</c>). Every line is flushed at once, so a watcher sees each step when it happens.
/// </summary>
internal sealed class DemoReport(CliConsole console, bool json)
{
    /// <summary>One event: its step name, the readable line, and the fields of its JSON object.</summary>
    public async Task WriteAsync(string step, string text, params (string Name, object? Value)[] fields)
    {
        await console.Out.WriteLineAsync(json ? Json(step, fields) : text);
        await console.Out.FlushAsync();
    }

    /// <summary>A failure: <c>{"step":"error",...}</c> on stdout with <c>--json</c>, else <c>atomic: ...</c> lines on stderr.</summary>
    public async Task FailAsync(DemoFailure failure)
    {
        if (json)
        {
            await console.Out.WriteLineAsync(Json("error", [("at", failure.Step), ("code", failure.Code), ("detail", failure.Detail), ("hint", failure.Hint)]));
            await console.Out.FlushAsync();
            return;
        }

        await console.Out.FlushAsync();
        await console.Error.WriteLineAsync($"atomic: demo failed at {failure.Step}: {failure.Code}: {failure.Detail}");
        if (failure.Hint is not null)
        {
            await console.Error.WriteLineAsync($"atomic: {failure.Hint}");
        }

        await console.Error.FlushAsync();
    }

    public static string Ms(TimeSpan elapsed) => elapsed.TotalMilliseconds < 10_000
        ? $"{elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms"
        : $"{elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";

    public static long MsValue(TimeSpan elapsed) => (long)elapsed.TotalMilliseconds;

    /// <summary>The first and last characters of a long hex string, for readable lines (JSON carries it whole).</summary>
    public static string Short(string hex) => hex.Length <= 20 ? hex : $"{hex[..8]}…{hex[^8..]}";

    private static string Json(string step, (string Name, object? Value)[] fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("step", step);
            foreach ((string name, object? value) in fields)
            {
                w.WritePropertyName(name);
                WriteValue(w, value);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null:
                w.WriteNullValue();
                break;
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case uint u:
                w.WriteNumberValue(u);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case ulong ul:
                w.WriteNumberValue(ul);
                break;
            case TimeSpan t:
                w.WriteNumberValue(MsValue(t));
                break;
            case IEnumerable<string> strings:
                w.WriteStartArray();
                foreach (string item in strings)
                {
                    w.WriteStringValue(item);
                }

                w.WriteEndArray();
                break;
            case IEnumerable<IReadOnlyList<(string Name, object? Value)>> objects:
                w.WriteStartArray();
                foreach (IReadOnlyList<(string Name, object? Value)> item in objects)
                {
                    w.WriteStartObject();
                    foreach ((string name, object? v) in item)
                    {
                        w.WritePropertyName(name);
                        WriteValue(w, v);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                break;
            default:
                w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
