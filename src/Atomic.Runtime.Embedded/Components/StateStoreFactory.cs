using System.Globalization;
using Atomic.Runtime.Embedded.State;
using Atomic.Runtime.State;

namespace Atomic.Runtime.Embedded.Components;

/// <summary>Builds the embedded state store a component declares (<c>state.sqlite</c>, <c>state.postgresql</c>, <c>state.in-memory</c>).</summary>
public static class StateStoreFactory
{
    public static bool IsStateStore(ComponentDefinition component) => component.Type.StartsWith("state.", StringComparison.Ordinal);

    /// <param name="component">The component definition.</param>
    /// <param name="baseDirectory">Relative database paths are resolved against this folder.</param>
    /// <param name="timeProvider">The clock TTLs are measured by.</param>
    public static IStateStore Create(ComponentDefinition component, string baseDirectory, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(component);
        switch (component.Type)
        {
            case "state.in-memory":
                return new InMemoryStateStore(component.Name, timeProvider);
            case "state.sqlite":
                {
                    string connectionString = SqliteConnectionString(component.Require("connectionString"), baseDirectory);
                    string table = component.Get("tableName", "state")!;
                    TimeSpan busy = ParseDuration(component, "busyTimeout", component.Get("busyTimeout", "2s")!);
                    try
                    {
                        return new SqliteStateStore(component.Name, connectionString, table, busy, timeProvider);
                    }
                    catch (ArgumentException e)
                    {
                        throw new ComponentException(component.File, "spec.metadata.tableName", e.Message);
                    }
                }

            case "state.postgresql":
                try
                {
                    return new PostgresStateStore(component.Name, component.Require("connectionString"), component.Get("tableName", "state")!, timeProvider);
                }
                catch (ArgumentException e)
                {
                    throw new ComponentException(component.File, "spec.metadata", e.Message);
                }
                catch (Npgsql.NpgsqlException e)
                {
                    throw new ComponentException(component.File, "spec.metadata.connectionString", $"cannot reach PostgreSQL: {e.Message}");
                }

            default:
                throw new ComponentException(component.File, "spec.type", $"'{component.Type}' is not a state store the embedded runtime provides (state.sqlite, state.postgresql, state.in-memory)");
        }
    }

    /// <summary>Dapr's sqlite component takes a file path or a <c>file:</c> URI; Microsoft.Data.Sqlite wants <c>Data Source=…</c>.</summary>
    internal static string SqliteConnectionString(string value, string baseDirectory)
    {
        if (!value.StartsWith("file:", StringComparison.Ordinal) && value.Contains('=', StringComparison.Ordinal))
        {
            return value;
        }

        string path = value.StartsWith("file:", StringComparison.Ordinal) ? value[5..].Split('?')[0] : value;
        if (path != ":memory:" && !Path.IsPathRooted(path))
        {
            path = Path.Combine(baseDirectory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }

        return $"Data Source={path}";
    }

    /// <summary>Go duration strings as Dapr writes them ("500ms", "2s", "1m30s"), or plain milliseconds.</summary>
    internal static TimeSpan ParseDuration(ComponentDefinition component, string field, string text)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        TimeSpan total = TimeSpan.Zero;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            if (start == unitStart || !double.TryParse(text[start..unitStart], NumberStyles.Float, CultureInfo.InvariantCulture, out double amount))
            {
                throw new ComponentException(component.File, $"spec.metadata.{field}", $"'{text}' is not a duration such as 500ms, 2s or 1m");
            }

            total += text[unitStart..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => throw new ComponentException(component.File, $"spec.metadata.{field}", $"'{text}' has an unknown unit (use ms, s, m or h)"),
            };
        }

        return total;
    }
}
