using System.Globalization;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Components;

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
                    string connectionString = PostgresConnectionString(component.Require("connectionString"));
                    return new PostgresStateStore(component.Name, connectionString, component.Get("tableName", "state")!, timeProvider);
                }
                catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
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

    /// <summary>
    /// Dapr's postgresql component (pgx) takes libpq's forms: <c>host=… port=… user=… password=… dbname=…</c> (keywords
    /// separated by spaces, values quoted with <c>'…'</c> when they hold spaces) or a <c>postgres://user:password@host:port/db</c>
    /// URL. Npgsql wants <c>Host=…;Port=…</c>; a value that already has <c>;</c> is taken as Npgsql's form.
    /// </summary>
    internal static string PostgresConnectionString(string value)
    {
        value = value.Trim();
        if (value.Contains(';', StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder();
        if (value.StartsWith("postgres://", StringComparison.Ordinal) || value.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            var url = new Uri(value);
            builder.Host = url.Host;
            if (!url.IsDefaultPort && url.Port > 0)
            {
                builder.Port = url.Port;
            }

            if (url.UserInfo.Length > 0)
            {
                string[] user = url.UserInfo.Split(':', 2);
                builder.Username = Uri.UnescapeDataString(user[0]);
                if (user.Length == 2)
                {
                    builder.Password = Uri.UnescapeDataString(user[1]);
                }
            }

            if (url.AbsolutePath.Trim('/') is { Length: > 0 } database)
            {
                builder.Database = Uri.UnescapeDataString(database);
            }

            foreach (string pair in url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = pair.Split('=', 2);
                SetLibpq(builder, Uri.UnescapeDataString(parts[0]), parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
            }

            return builder.ConnectionString;
        }

        int i = 0;
        while (i < value.Length)
        {
            while (i < value.Length && char.IsWhiteSpace(value[i]))
            {
                i++;
            }

            int keyStart = i;
            while (i < value.Length && value[i] != '=' && !char.IsWhiteSpace(value[i]))
            {
                i++;
            }

            string key = value[keyStart..i];
            while (i < value.Length && char.IsWhiteSpace(value[i]))
            {
                i++;
            }

            if (key.Length == 0 || i >= value.Length || value[i] != '=')
            {
                throw new ArgumentException($"'{key}' in the connection string has no value (libpq form: host=… port=… user=… password=… dbname=…)");
            }

            i++;
            while (i < value.Length && char.IsWhiteSpace(value[i]))
            {
                i++;
            }

            var text = new System.Text.StringBuilder();
            if (i < value.Length && value[i] == '\'')
            {
                i++;
                while (i < value.Length && value[i] != '\'')
                {
                    if (value[i] == '\\' && i + 1 < value.Length)
                    {
                        i++;
                    }

                    text.Append(value[i++]);
                }

                if (i >= value.Length)
                {
                    throw new ArgumentException($"the quoted value of '{key}' in the connection string is not closed");
                }

                i++;
            }
            else
            {
                while (i < value.Length && !char.IsWhiteSpace(value[i]))
                {
                    text.Append(value[i] == '\\' && i + 1 < value.Length ? value[++i] : value[i]);
                    i++;
                }
            }

            SetLibpq(builder, key, text.ToString());
        }

        return builder.ConnectionString;
    }

    private static void SetLibpq(Npgsql.NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        switch (key.ToLowerInvariant())
        {
            case "host" or "hostaddr":
                builder.Host = value;
                break;
            case "port":
                builder.Port = int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            case "user":
                builder.Username = value;
                break;
            case "password":
                builder.Password = value;
                break;
            case "dbname" or "database":
                builder.Database = value;
                break;
            case "sslmode":
                builder.SslMode = value switch
                {
                    "disable" => Npgsql.SslMode.Disable,
                    "allow" => Npgsql.SslMode.Allow,
                    "prefer" => Npgsql.SslMode.Prefer,
                    "require" => Npgsql.SslMode.Require,
                    "verify-ca" => Npgsql.SslMode.VerifyCA,
                    "verify-full" => Npgsql.SslMode.VerifyFull,
                    _ => throw new ArgumentException($"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                };
                break;
            case "connect_timeout":
                builder.Timeout = int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "pool_max_conns":
                builder.MaxPoolSize = int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            case "search_path":
                builder.SearchPath = value;
                break;
            default:
                builder[key] = value; // Npgsql's own keyword, or an ArgumentException naming it
                break;
        }
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
