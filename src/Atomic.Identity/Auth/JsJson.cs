using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Atomic.Identity.Auth;

/// <summary>
/// JavaScript's <c>JSON.stringify(JSON.parse(text))</c> over a parsed element: the text @bsv/sdk signs for
/// certificate requests and responses. Compact; object keys in their order except that array-index keys come first
/// in numeric order (as JavaScript objects keep them), a repeated key keeping its first place and last value; strings
/// escaped only where JSON.stringify escapes (quote, backslash, control characters, lone surrogates); numbers as
/// JavaScript prints them.
/// </summary>
internal static class JsJson
{
    public static string Stringify(JsonElement element)
    {
        var sb = new StringBuilder();
        Write(sb, element);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var keys = new List<string>();
                var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    if (!values.ContainsKey(p.Name))
                    {
                        keys.Add(p.Name);
                    }

                    values[p.Name] = p.Value;
                }

                IEnumerable<string> ordered = keys.Where(IsArrayIndex).OrderBy(k => uint.Parse(k, CultureInfo.InvariantCulture))
                    .Concat(keys.Where(k => !IsArrayIndex(k)));
                sb.Append('{');
                bool first = true;
                foreach (string key in ordered)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    WriteString(sb, key);
                    sb.Append(':');
                    Write(sb, values[key]);
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                int i = 0;
                foreach (JsonElement item in e.EnumerateArray())
                {
                    if (i++ > 0)
                    {
                        sb.Append(',');
                    }

                    Write(sb, item);
                }

                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, RawString(e));
                break;
            case JsonValueKind.Number:
                sb.Append(Number(e.GetDouble()));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    /// <summary>A string value unescaped by hand: System.Text.Json refuses lone surrogates, which JavaScript keeps.</summary>
    private static string RawString(JsonElement e)
    {
        string raw = e.GetRawText();
        var sb = new StringBuilder(raw.Length);
        for (int i = 1; i < raw.Length - 1; i++)
        {
            char c = raw[i];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            char x = raw[++i];
            switch (x)
            {
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    sb.Append((char)int.Parse(raw.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: sb.Append(x); break;
            }
        }

        return sb.ToString();
    }

    private static bool IsArrayIndex(string key) =>
        key.Length > 0 && (key == "0" || key[0] != '0') && key.All(char.IsAsciiDigit)
        && ulong.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) && n < uint.MaxValue;

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>Number::toString: the shortest round-trip digits, placed as ECMAScript places them.</summary>
    private static string Number(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
        {
            return "null";
        }

        if (d == 0)
        {
            return "0";
        }

        string sign = d < 0 ? "-" : "";
        // Shortest digits: "R" gives them, in either plain or exponent form.
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exponentAt = shortest.IndexOfAny(['E', 'e']);
        string mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        int exponent = exponentAt < 0 ? 0 : int.Parse(shortest[(exponentAt + 1)..], CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.');
        string digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int intDigits = point < 0 ? mantissa.Length : point;
        int leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        if (digits.Length == 0)
        {
            return "0";
        }

        int n = intDigits - leadingZeros + exponent; // the decimal point sits after n digits
        int k = digits.Length;
        string text;
        if (k <= n && n <= 21)
        {
            text = digits + new string('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            text = digits[..n] + "." + digits[n..];
        }
        else if (-6 < n && n <= 0)
        {
            text = "0." + new string('0', -n) + digits;
        }
        else
        {
            string e = (n - 1 >= 0 ? "+" : "-") + Math.Abs(n - 1).ToString(CultureInfo.InvariantCulture);
            text = digits[..1] + (k > 1 ? "." + digits[1..] : "") + "e" + e;
        }

        return sign + text;
    }
}
