using System.Text.Json;
using Atomic.Bsv.Transactions;
using Atomic.Overlay.Revocation;
using static Atomic.Overlay.Tests.OverlayTestKit;

namespace Atomic.Overlay.Tests;

public sealed class RevocationTopicManagerTests
{
    private static readonly byte[] Serial = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Revocation_outputs_are_admitted_and_spending_one_revokes_its_certificate()
    {
        var manager = new RevocationTopicManager();
        Transaction issue = Tx(1, RevocationTopicManager.Lock(Alice.PublicKey, Serial), P2pkh(Alice));
        manager.IdentifyAdmissibleOutputs(issue, []).OutputsToAdmit.Should().Equal(0);

        Transaction revoke = Tx(1, P2pkh(Alice));
        PreviousCoin coin = Coin(revoke, 0, issue, 0);
        manager.IdentifyAdmissibleOutputs(revoke, [coin]).CoinsRemoved.Should().Equal(0);
        Revoked revoked = RevocationTopicManager.Revocations(revoke, [coin]).Should().ContainSingle().Which;
        revoked.SerialNumber.Should().Be(Convert.ToBase64String(Serial));
        revoked.RevocationOutpoint.Should().Be(new OutPoint(issue.Id, 0));
        revoked.SpentBy.Should().Be(revoke.Id);
    }

    [Fact]
    public void Only_tagged_outputs_with_a_32_byte_serial_are_revocation_outputs()
    {
        RevocationTopicManager.SerialNumberOf(PushDrop.Lock(Alice.PublicKey, ["brc52.revocation"u8.ToArray(), new byte[31]])).Should().BeNull();
        RevocationTopicManager.SerialNumberOf(PushDrop.Lock(Alice.PublicKey, ["other"u8.ToArray(), Serial])).Should().BeNull();
        RevocationTopicManager.SerialNumberOf(P2pkh(Alice)).Should().BeNull();
        ((Action)(() => RevocationTopicManager.Lock(Alice.PublicKey, new byte[5]))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void The_lookup_answers_by_serial_number_or_outpoint_spent_or_not()
    {
        Transaction issue = Tx(1, RevocationTopicManager.Lock(Alice.PublicKey, Serial));
        var service = new RevocationLookupService();
        service.IncludesSpent.Should().BeTrue();
        var output = new AdmittedOutput(RevocationTopicManager.TopicName, new OutPoint(issue.Id, 0), issue.Outputs[0], SpentBy: "ab");
        service.Matches(Json($$"""{"serialNumber":"{{Convert.ToBase64String(Serial)}}"}"""), output).Should().BeTrue();
        service.Matches(Json($$"""{"outpoint":"{{issue.Id.ToDisplayHex()}}.0"}"""), output).Should().BeTrue();
        service.Matches(Json($$"""{"outpoint":"{{issue.Id.ToDisplayHex()}}.1"}"""), output).Should().BeFalse();
        ((Action)(() => service.Matches(Json("""{"serialNumber":"c2hvcnQ="}"""), output))).Should().Throw<LookupQueryException>();
        ((Action)(() => service.Matches(Json("""{}"""), output))).Should().Throw<LookupQueryException>();
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;
}
