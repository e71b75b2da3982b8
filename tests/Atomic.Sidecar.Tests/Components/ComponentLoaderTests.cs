using Atomic.Sidecar.Components;
using Atomic.Sidecar.Components.State;

namespace Atomic.Sidecar.Tests.Components;

public sealed class ComponentLoaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-components-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string yaml)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string SqliteComponent = """
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.sqlite
          version: v1
          metadata:
          - name: connectionString
            value: "data/state.db"
          - name: busyTimeout
            value: "1m30s"
        scopes:
        - atomic-gateway
        """;

    [Fact]
    public void The_repository_components_folder_loads_and_builds_its_state_store()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Atomic.Dapr.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        IReadOnlyList<ComponentDefinition> components = ComponentLoader.LoadDirectory(Path.Combine(root, "components"));
        ComponentDefinition state = components.Single(c => c.Name == "statestore");
        state.Type.Should().Be("state.sqlite");
        state.Get("actorStateStore").Should().Be("true");
        StateStoreFactory.Create(state, _directory).Should().BeOfType<SqliteStateStore>().Which.Name.Should().Be("statestore");
        File.Exists(Path.Combine(_directory, "data", "state.db")).Should().BeTrue();
    }

    [Fact]
    public void A_component_is_read_with_its_metadata_and_scopes_and_other_kinds_are_skipped()
    {
        Write("a.yaml", SqliteComponent + "\n---\napiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: tracing\nspec: {}\n");
        IReadOnlyList<ComponentDefinition> components = ComponentLoader.LoadDirectory(_directory);
        ComponentDefinition c = components.Should().ContainSingle().Which;
        c.Name.Should().Be("statestore");
        c.Version.Should().Be("v1");
        c.Require("connectionString").Should().Be("data/state.db");
        c.Scopes.Should().Equal("atomic-gateway");
        StateStoreFactory.ParseDuration(c, "busyTimeout", c.Get("busyTimeout")!).Should().Be(TimeSpan.FromSeconds(90));
    }

    [Theory]
    [InlineData("type: state.sqlite", "type: state.cassandra", "spec.type")]
    [InlineData("- name: connectionString\n    value: \"data/state.db\"", "- name: other\n    value: x", "spec.metadata.connectionString")]
    [InlineData("value: \"1m30s\"", "value: \"soon\"", "spec.metadata.busyTimeout")]
    [InlineData("apiVersion: dapr.io/v1alpha1", "apiVersion: dapr.io/v2", "apiVersion")]
    [InlineData("  name: statestore\n", "  other: statestore\n", "metadata.name")]
    public void An_unusable_component_stops_start_up_naming_the_file_and_the_field(string from, string to, string field)
    {
        string path = Write("bad.yaml", SqliteComponent.Replace(from, to, StringComparison.Ordinal));
        FluentActions.Invoking(() =>
        {
            foreach (ComponentDefinition c in ComponentLoader.LoadDirectory(_directory))
            {
                StateStoreFactory.Create(c, _directory);
                StateStoreFactory.ParseDuration(c, "busyTimeout", c.Get("busyTimeout")!);
            }
        }).Should().Throw<ComponentException>().Where(e => e.File == path && e.Field == field && e.Message.StartsWith(path, StringComparison.Ordinal));
    }

    [Fact]
    public void Invalid_YAML_and_duplicate_names_are_reported_with_their_file()
    {
        string broken = Write("broken.yaml", "apiVersion: [unclosed");
        FluentActions.Invoking(() => ComponentLoader.LoadDirectory(_directory)).Should().Throw<ComponentException>().Where(e => e.File == broken);
        File.Delete(broken);

        Write("one.yaml", SqliteComponent);
        string second = Write("two.yaml", SqliteComponent);
        FluentActions.Invoking(() => ComponentLoader.LoadDirectory(_directory)).Should().Throw<ComponentException>()
            .Where(e => e.File == second && e.Field == "metadata.name");
    }

    [Fact]
    public void An_in_memory_component_builds_the_in_memory_store()
    {
        Write("mem.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: cache\nspec:\n  type: state.in-memory\n  version: v1\n");
        IStateStore store = StateStoreFactory.Create(ComponentLoader.LoadDirectory(_directory).Single(), _directory);
        store.Should().BeOfType<InMemoryStateStore>().Which.Name.Should().Be("cache");
    }

    [Fact]
    public async Task A_postgresql_component_builds_a_store_on_the_server_it_names()
    {
        string connection = Environment.GetEnvironmentVariable("ATOMIC_TEST_POSTGRES")
            ?? "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test";
        string table = $"state_{Guid.NewGuid():n}";
        Write("pg.yaml", $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.postgresql\n  version: v1\n  metadata:\n  - name: connectionString\n    value: \"{connection}\"\n  - name: tableName\n    value: {table}\n");
        var store = (PostgresStateStore)StateStoreFactory.Create(ComponentLoader.LoadDirectory(_directory).Single(), _directory);
        await using (store)
        {
            await store.SaveAsync(new StateWrite("k", new byte[] { 1 }));
            (await store.GetAsync("k"))!.Value.ToArray().Should().Equal(1);
            await store.ExecuteTransactionAsync([new StateOperation.Delete("k")]);
        }

        await using var cleanup = Npgsql.NpgsqlDataSource.Create(connection);
        await using var drop = cleanup.CreateCommand($"DROP TABLE {table}");
        await drop.ExecuteNonQueryAsync();
    }

    [Theory]
    [InlineData("host=127.0.0.1 port=5432 user=atomic password=atomic dbname=atomic", "Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic")]
    [InlineData("host=db user=atomic password='a b\\'c' database=x sslmode=disable connect_timeout=10", "Host=db;Username=atomic;Password=\"a b'c\";Database=x;SSL Mode=Disable;Timeout=10")]
    [InlineData("postgres://atomic:p%40ss@db:6432/atomic?sslmode=require", "Host=db;Port=6432;Username=atomic;Password=p@ss;Database=atomic;SSL Mode=Require")]
    [InlineData("Host=127.0.0.1;Port=5432;Username=atomic", "Host=127.0.0.1;Port=5432;Username=atomic")]
    public void Dapr_style_postgresql_connection_strings_become_Npgsql_ones(string value, string expected)
    {
        var actual = new Npgsql.NpgsqlConnectionStringBuilder(StateStoreFactory.PostgresConnectionString(value));
        actual.EquivalentTo(new Npgsql.NpgsqlConnectionStringBuilder(expected)).Should().BeTrue(actual.ConnectionString);
    }

    [Theory]
    [InlineData("host=db port=none")]
    [InlineData("host=db nonsense")]
    [InlineData("host=db password='open")]
    [InlineData("host=db colour=blue")]
    public void An_unreadable_postgresql_connection_string_stops_start_up_naming_the_file(string value)
    {
        string path = Write("pg.yaml", $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.postgresql\n  version: v1\n  metadata:\n  - name: connectionString\n    value: \"{value}\"\n");
        FluentActions.Invoking(() => StateStoreFactory.Create(ComponentLoader.LoadDirectory(_directory).Single(), _directory))
            .Should().Throw<ComponentException>().Where(e => e.File == path && e.Field == "spec.metadata");
    }

    [Theory]
    [InlineData("data/state.db", "Data Source=")]
    [InlineData("file:state.db?cache=shared", "Data Source=")]
    [InlineData("Data Source=/tmp/x.db;Pooling=False", "Data Source=/tmp/x.db;Pooling=False")]
    public void Dapr_style_sqlite_connection_strings_become_Microsoft_Data_Sqlite_ones(string value, string expectedStart) =>
        StateStoreFactory.SqliteConnectionString(value, _directory).Should().StartWith(expectedStart);
}
