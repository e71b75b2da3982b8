using System.Globalization;
using System.Text;
using System.Xml;

namespace Atomic.Runtime.Dapr.Actors;

/// <summary>
/// Durations as the actor API writes them: Go's <c>time.ParseDuration</c> syntax (<c>1h30m</c>, <c>5s</c>,
/// <c>250ms</c>), which Dapr takes for <c>dueTime</c>, <c>period</c> and the <c>/dapr/config</c> timeouts. Reading also
/// accepts the ISO 8601 durations Dapr accepts for a period (<c>PT10S</c>), without a recurrence (<c>Rn/</c>).
/// </summary>
public static class GoDuration
{
    /// <summary>Hours, minutes and seconds, each only when not zero (<c>1h</c>, <c>1m30s</c>, <c>0.25s</c>; zero is <c>0s</c>).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "actor durations are not negative");
        }

        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        long hours = duration.Ticks / TimeSpan.TicksPerHour;
        long minutes = duration.Ticks / TimeSpan.TicksPerMinute % 60;
        long ticks = duration.Ticks % TimeSpan.TicksPerMinute;
        if (hours > 0)
        {
            text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (minutes > 0)
        {
            text.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        if (ticks > 0)
        {
            // Seconds with up to seven decimals: a tick is 100 ns, and Go reads fractional seconds exactly.
            decimal seconds = ticks / (decimal)TimeSpan.TicksPerSecond;
            text.Append(seconds.ToString("0.#######", CultureInfo.InvariantCulture)).Append('s');
        }

        return text.ToString();
    }

    /// <summary>Reads a Go duration (units <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c>, <c>us</c>/<c>µs</c>, <c>ns</c>) or an ISO 8601 duration; throws <see cref="FormatException"/> otherwise.</summary>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('P'))
        {
            try
            {
                return XmlConvert.ToTimeSpan(text);
            }
            catch (FormatException e)
            {
                throw new FormatException($"'{text}' is not an ISO 8601 duration", e);
            }
        }

        if (text == "0")
        {
            return TimeSpan.Zero;
        }

        decimal ticks = 0;
        int i = 0;
        if (text.Length == 0)
        {
            throw new FormatException("an empty string is not a duration");
        }

        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (i == start || !decimal.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            {
                throw new FormatException($"'{text}' is not a Go duration: a number is expected at {start}");
            }

            int unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
            {
                i++;
            }

            decimal unit = text[unitStart..i] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" or "µs" or "μs" => TimeSpan.TicksPerMicrosecond,
                "ns" => 0.01m,
                string other => throw new FormatException($"'{text}' is not a Go duration: unit '{other}' is not h, m, s, ms, us or ns"),
            };
            ticks += number * unit;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                throw new FormatException($"'{text}' is too long a duration");
            }
        }

        return TimeSpan.FromTicks((long)decimal.Round(ticks));
    }
}
