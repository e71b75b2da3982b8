using System.Globalization;
using System.Text.RegularExpressions;

namespace Atomic.Sidecar.Actors;

/// <summary>
/// A reminder's or timer's period as daprd reads it: a Go duration (<c>1s</c>, <c>0h0m9s0ms</c>) or an ISO-8601
/// duration (<c>PT1S</c>, <c>P1MT2H</c>), optionally with repetitions (<c>R5/PT1S</c>: five firings in all).
/// Years, months and days are calendar steps, as daprd adds them.
/// </summary>
internal readonly record struct DaprPeriod(int Years, int Months, int Days, TimeSpan Time, int Repetitions)
{
    /// <summary>No repetition limit.</summary>
    public const int Unlimited = -1;

    /// <summary>True when the period adds nothing (a one-shot).</summary>
    public bool IsZero => Years == 0 && Months == 0 && Days == 0 && Time == TimeSpan.Zero;

    /// <summary>The firing after one at <paramref name="from"/>.</summary>
    public DateTimeOffset After(DateTimeOffset from) => from.AddYears(Years).AddMonths(Months).AddDays(Days).Add(Time);
}

/// <summary>daprd's duration and time syntax for actor reminders, timers and <c>/dapr/config</c>.</summary>
internal static partial class DaprDuration
{
    /// <summary>Go's <c>time.ParseDuration</c>: an optional sign, then number-unit pairs (ns, us, µs, ms, s, m, h), or <c>0</c>.</summary>
    public static bool TryParseGo(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        ReadOnlySpan<char> s = text;
        bool negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.SequenceEqual("0"))
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal ticks = 0;
        while (!s.IsEmpty)
        {
            int digits = 0;
            while (digits < s.Length && (char.IsAsciiDigit(s[digits]) || s[digits] == '.'))
            {
                digits++;
            }

            ReadOnlySpan<char> number = s[..digits];
            if (number.IsEmpty || number.SequenceEqual(".") || number.Count('.') > 1
                || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal n))
            {
                return false;
            }

            s = s[digits..];
            int unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.')
            {
                unitLength++;
            }

            decimal? perUnit = s[..unitLength] switch
            {
                "ns" => 0.01m,
                "us" or "\u00b5s" or "\u03bcs" => 10m,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => null,
            };
            if (perUnit is not decimal unit)
            {
                return false;
            }

            s = s[unitLength..];
            try
            {
                ticks += n * unit;
            }
            catch (OverflowException)
            {
                return false;
            }

            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
        return true;
    }

    /// <summary>A period (<c>period</c> of a reminder or timer): Go or ISO-8601, with optional <c>Rn/</c> repetitions.</summary>
    public static bool TryParsePeriod(string text, out DaprPeriod period)
    {
        period = default;
        if (TryParseGo(text, out TimeSpan go))
        {
            if (go < TimeSpan.Zero)
            {
                return false;
            }

            period = new DaprPeriod(0, 0, 0, go, DaprPeriod.Unlimited);
            return true;
        }

        return TryParseIso(text, allowRepetitions: true, out period);
    }

    /// <summary>
    /// A point in time (<c>dueTime</c>, <c>ttl</c>): a Go or ISO-8601 duration after <paramref name="from"/>, or an
    /// RFC 3339 timestamp.
    /// </summary>
    public static bool TryParseTime(string text, DateTimeOffset from, out DateTimeOffset at)
    {
        at = from;
        if (TryParseGo(text, out TimeSpan go))
        {
            at = from + go;
            return true;
        }

        if (TryParseIso(text, allowRepetitions: false, out DaprPeriod iso))
        {
            at = iso.After(from);
            return true;
        }

        return DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out at);
    }

    private static bool TryParseIso(string text, bool allowRepetitions, out DaprPeriod period)
    {
        period = default;
        Match match = IsoDuration().Match(text);
        if (!match.Success || (!allowRepetitions && match.Groups["r"].Success) || text.EndsWith('T'))
        {
            return false;
        }

        if (!match.Groups["y"].Success && !match.Groups["mo"].Success && !match.Groups["w"].Success && !match.Groups["d"].Success
            && !match.Groups["h"].Success && !match.Groups["mi"].Success && !match.Groups["s"].Success)
        {
            return false;
        }

        try
        {
            int repetitions = match.Groups["r"].Success ? Number(match, "r") : DaprPeriod.Unlimited;
            TimeSpan time = TimeSpan.FromHours(Number(match, "h")) + TimeSpan.FromMinutes(Number(match, "mi"))
                + TimeSpan.FromSeconds(match.Groups["s"].Success ? double.Parse(match.Groups["s"].Value, CultureInfo.InvariantCulture) : 0);
            period = new DaprPeriod(Number(match, "y"), Number(match, "mo"), (Number(match, "w") * 7) + Number(match, "d"), time, repetitions);
            return true;
        }
        catch (Exception e) when (e is OverflowException or FormatException)
        {
            return false;
        }
    }

    private static int Number(Match match, string group) =>
        match.Groups[group].Success ? int.Parse(match.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^(R(?<r>[0-9]+)/)?P((?<y>[0-9]+)Y)?((?<mo>[0-9]+)M)?((?<w>[0-9]+)W)?((?<d>[0-9]+)D)?(T((?<h>[0-9]+)H)?((?<mi>[0-9]+)M)?((?<s>[0-9]+(\.[0-9]+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDuration();
}
