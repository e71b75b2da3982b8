using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Atomic.Cli.Commands.Keys;

/// <summary>
/// What a key command prints: <c>label  value</c> lines, labels aligned, or with <c>--json</c> one JSON object whose
/// names are the fields' JSON names. A null value is a JSON null and no line.
/// </summary>
internal sealed class KeyReport
{
    private readonly List<(string? Label, string Name, object? Value, string? Text)> _fields = [];

    /// <summary>
    /// One field: its line's label (null: JSON only), its JSON name, its value, and the line's text when it should read
    /// otherwise than the value.
    /// </summary>
    public KeyReport Add(string? label, string name, object? value, string? text = null)
    {
        _fields.Add((label, name, value, text));
        return this;
    }

    public async Task WriteAsync(CliConsole console, bool json)
    {
        await console.Out.WriteLineAsync(json ? Json() : Text());
        await console.Out.FlushAsync();
    }

    private string Text()
    {
        var lines = _fields.Where(f => f.Label is not null && f.Value is not null).ToList();
        int width = lines.Select(f => f.Label!.Length).DefaultIfEmpty(0).Max();
        var sb = new StringBuilder();
        foreach ((string? label, _, object? value, string? text) in lines)
        {
            sb.Append(label!.PadRight(width + 2)).Append(text ?? Format(value!)).Append('\n');
        }

        return sb.ToString().TrimEnd('\n');
    }

    private string Json()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        // Relaxed escaping keeps a path's hardened marks as ' rather than \u0027; the output is never HTML.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            foreach ((_, string name, object? value, _) in _fields)
            {
                switch (value)
                {
                    case null:
                        w.WriteNull(name);
                        break;
                    case bool b:
                        w.WriteBoolean(name, b);
                        break;
                    case int i:
                        w.WriteNumber(name, i);
                        break;
                    case uint u:
                        w.WriteNumber(name, u);
                        break;
                    default:
                        w.WriteString(name, Format(value));
                        break;
                }
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Format(object value) => value switch
    {
        bool b => b ? "yes" : "no",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
