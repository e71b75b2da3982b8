using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;
using Atomic.Overlay;
using Atomic.Overlay.Tokens;

namespace Atomic.Sessions.Tests;

/// <summary>A session from its setup to the signed transaction's Atomic BEEF, checking every step on the way.</summary>
internal static class SessionRun
{
    /// <summary>A satoshi a byte: an estimate a byte short would show as a satoshi short.</summary>
    public const ulong Rate = 1000;

    public static SessionSetup Setup(string template, string terms, params (string Id, PrivateKey Key)[] parties) =>
        new(template, [.. parties.Select(p => new Party(p.Id, p.Key.PublicKey))], JsonDocument.Parse(terms).RootElement.Clone());

    /// <summary>A contribution whose change goes to P2PKH of <paramref name="key"/>.</summary>
    public static Contribution Contribution(
        string party, PrivateKey key, IReadOnlyList<ContributedInput> inputs, params TxOutput[] outputs) =>
        new(party, inputs, outputs, TestLedger.P2pkh(key));

    /// <summary>
    /// Checks each contribution in turn (the deal completing only with the last), assembles, signs every input with the
    /// keys <paramref name="keysOf"/> gives, checks each signature, and builds and verifies the Atomic BEEF.
    /// </summary>
    public static async Task<(AssembledSession Assembled, Transaction Signed, Beef Beef)> FinishAsync(
        ISessionTemplate template, SessionSetup setup, IReadOnlyList<Contribution> contributions, Func<SessionInput, PrivateKey[]> keysOf)
    {
        template.CheckTerms(setup).Should().Be(SessionCheck.Ok);
        var accepted = new List<Contribution>();
        foreach (Contribution contribution in contributions)
        {
            template.IsComplete(setup, accepted).Should().BeFalse("the deal is not complete before {0} contributes", contribution.Party);
            template.CheckContribution(setup, accepted, contribution)
                .Should().Be(SessionCheck.Ok, "{0}'s contribution keeps the deal", contribution.Party);
            accepted.Add(contribution);
        }

        template.IsComplete(setup, accepted).Should().BeTrue();
        AssembledSession assembled = SessionAssembler.Assemble(setup, accepted, Rate);
        IReadOnlyList<(int Index, Bsv.Scripts.Script Unlocking)> scripts = Signer.UnlockAll(assembled, keysOf);
        foreach ((int index, Bsv.Scripts.Script unlocking) in scripts)
        {
            SessionSigning.Check(assembled.Unsigned, assembled.Inputs[index], unlocking)
                .IsSuccess.Should().BeTrue("input {0} is signed by its owner", index);
        }

        Transaction signed = SessionSigning.WithUnlocking(assembled.Unsigned, scripts);
        SessionAssembler.FeeFor(signed.Size, Rate).Should().BeLessThanOrEqualTo(assembled.Fee, "the estimate never underpays");
        byte[] bytes = SessionSigning.AtomicBeef(signed, accepted.SelectMany(c => c.Inputs));
        Beef beef = Beef.FromBytes(bytes);
        beef.AtomicTxId.Should().Be(signed.Id);
        beef.IsValid().Should().BeTrue();
        SpvResult spv = await new SpvVerifier(TestLedger.Tracker(), new SpvOptions { MinFeeRatePerKb = Rate }).VerifyAsync(bytes);
        spv.IsValid.Should().BeTrue(spv.Error);
        return (assembled, signed, beef);
    }

    /// <summary>The outputs <c>tm_tokens</c> admits from the signed transaction of a session.</summary>
    public static IReadOnlyList<int> TokensAdmitted(AssembledSession assembled, Transaction signed) =>
        new TokenTopicManager().IdentifyAdmissibleOutputs(signed,
            [.. assembled.Inputs.Select(i => new PreviousCoin(i.Index, signed.Inputs[i.Index].PrevOut, TestLedger.SourceOf(i)))])
            .OutputsToAdmit;

    /// <summary>The indexes of the signed transaction's outputs that are well-formed token outputs.</summary>
    public static IReadOnlyList<int> TokenOutputs(Transaction signed) =>
        [.. Enumerable.Range(0, signed.Outputs.Count)
            .Where(i => TokenTopicManager.Read(signed.Outputs[i].LockingScript, new OutPoint(signed.Id, (uint)i)) is not null)];

    /// <summary>
    /// <paramref name="json"/> with the value at <paramref name="path"/> (names and array indexes joined by dots) replaced
    /// by the JSON <paramref name="value"/>, or removed when it is null.
    /// </summary>
    public static string Mutate(string json, string path, string? value)
    {
        JsonNode root = JsonNode.Parse(json)!;
        string[] steps = path.Split('.');
        JsonNode parent = root;
        foreach (string step in steps[..^1])
        {
            parent = int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? parent[i]! : parent[step]!;
        }

        string last = steps[^1];
        if (parent is JsonArray array)
        {
            int i = int.Parse(last, CultureInfo.InvariantCulture);
            if (value is null)
            {
                array.RemoveAt(i);
            }
            else
            {
                array[i] = JsonNode.Parse(value);
            }
        }
        else if (value is null)
        {
            parent.AsObject().Remove(last);
        }
        else
        {
            parent[last] = JsonNode.Parse(value);
        }

        return root.ToJsonString();
    }

    public static void ShouldThrow(this Action act, string code, string reason) =>
        act.Should().Throw<SessionException>().Where(e => e.Code == code && e.Message.Contains(reason, StringComparison.Ordinal));

    public static void ShouldRefuse(this SessionCheck check, string code, string reason)
    {
        check.Code.Should().Be(code, check.ToString());
        check.Reason.Should().Contain(reason);
    }
}
