using System.Text;
using Atomic.Services.Operations;
using Microsoft.Extensions.Options;

namespace Atomic.Services.Tests.Operations;

/// <summary>The audit journal's file: what a kill can leave in it is read back without inventing drafts.</summary>
public sealed class AuditJournalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("atomic-journal-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void A_journal_left_behind_is_set_aside_for_the_writer_and_a_new_one_begins()
    {
        string path = PathOf("a.journal");
        using (var log = new AuditLog(Options.Create(new AuditOptions { JournalPath = path }), TimeProvider.System))
        {
            log.Append("k", "s1", "d", "02aa").Should().BeTrue();
            log.Append("k", "s2").Should().BeTrue();
        }

        using var next = new AuditLog(Options.Create(new AuditOptions { JournalPath = path }), TimeProvider.System);
        string[] earlier = Directory.GetFiles(_directory, "a.journal.replay-*");
        earlier.Should().ContainSingle();
        (long head, List<(string Kind, string Subject, string? Identity, string Detail)> drafts) = Read(earlier[0]);
        head.Should().Be(-1, "no writer named the head");
        drafts.Should().Equal(("k", "s1", "02aa", "d"), ("k", "s2", null, ""));
        new FileInfo(path).Length.Should().Be(AuditJournal.HeaderLength);
    }

    [Fact]
    public void A_second_process_cannot_take_a_journal_in_use_and_runs_without_one()
    {
        string path = PathOf("b.journal");
        using var first = new AuditLog(Options.Create(new AuditOptions { JournalPath = path }), TimeProvider.System);
        using var second = new AuditLog(Options.Create(new AuditOptions { JournalPath = path }), TimeProvider.System);
        second.Append("k", "s").Should().BeTrue("the entry is still queued");
        Directory.GetFiles(_directory, "b.journal.replay-*").Should().BeEmpty("the journal in use was not moved aside");
    }

    [Fact]
    public void Lines_a_kill_cut_short_or_never_wrote_are_skipped()
    {
        string path = PathOf("c.journal");
        string header = "{\"head\":41}".PadRight(AuditJournal.HeaderLength - 1) + "\n";
        string good = "{\"at\":\"2026-12-04T10:00:00.0000001Z\",\"kind\":\"k\",\"subject\":\"s\",\"identity\":null,\"detail\":\"\"}\n";
        byte[] hole = new byte[37]; // reserved, never written
        byte[] bytes = [.. Encoding.UTF8.GetBytes(header), .. hole, .. Encoding.UTF8.GetBytes(good), .. Encoding.UTF8.GetBytes("{\"at\":\"2026-12-04T10:00:0\n"),
            .. Encoding.UTF8.GetBytes(good.Replace("\"s\"", "\"t\"", StringComparison.Ordinal)), .. Encoding.UTF8.GetBytes("{\"at\":\"2026")];
        File.WriteAllBytes(path, bytes);

        (long head, var drafts) = Read(path);
        head.Should().Be(41);
        drafts.Select(d => d.Subject).Should().Equal("s", "t");
    }

    private static (long Head, List<(string Kind, string Subject, string? Identity, string Detail)> Drafts) Read(string path)
    {
        (long head, var drafts) = AuditJournal.Read(path);
        return (head, [.. drafts.Select(d => (d.Kind, d.Subject, d.Identity, d.Detail))]);
    }
}
