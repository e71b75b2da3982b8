using Atomic.Services.Pipeline;

namespace Atomic.Services.Tests;

public sealed class BeefHandOffTests
{
    private static string TxId(int i) => i.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_beef_handed_over_is_taken_once_as_a_copy()
    {
        var handOff = new BeefHandOff(enabled: true);
        byte[] beef = [1, 2, 3];

        handOff.Offer(TxId(1), beef);
        beef[0] = 9; // the caller's buffer changing later changes nothing held

        handOff.Take(TxId(1)).Should().Equal(1, 2, 3);
        handOff.Take(TxId(1)).Should().BeNull("it was taken");
        handOff.Taken.Should().Be(1);
        handOff.Count.Should().Be(0);
    }

    [Fact]
    public void A_process_without_the_verifier_holds_nothing()
    {
        var handOff = new BeefHandOff(enabled: false);
        handOff.Offer(TxId(1), [1, 2, 3]);

        handOff.Count.Should().Be(0);
        handOff.Take(TxId(1)).Should().BeNull();
    }

    [Fact]
    public void A_beef_over_the_size_limit_is_left_to_the_store()
    {
        var handOff = new BeefHandOff(enabled: true);
        handOff.Offer(TxId(1), new byte[BeefHandOff.MaxBeefBytes + 1]);
        handOff.Offer(TxId(2), new byte[BeefHandOff.MaxBeefBytes]);

        handOff.Take(TxId(1)).Should().BeNull();
        handOff.Take(TxId(2)).Should().HaveCount(BeefHandOff.MaxBeefBytes);
    }

    [Fact]
    public void Beefs_never_taken_are_dropped_oldest_first_past_the_bound()
    {
        var handOff = new BeefHandOff(enabled: true);
        for (int i = 0; i < BeefHandOff.MaxEntries + 10; i++)
        {
            handOff.Offer(TxId(i), [(byte)i]);
        }

        handOff.Count.Should().Be(BeefHandOff.MaxEntries);
        handOff.Take(TxId(9)).Should().BeNull("the ten oldest went");
        handOff.Take(TxId(10)).Should().Equal((byte)10);
        handOff.Take(TxId(BeefHandOff.MaxEntries + 9)).Should().NotBeNull();
    }

    [Fact]
    public void A_beef_about_to_change_is_forgotten()
    {
        var handOff = new BeefHandOff(enabled: true);
        handOff.Offer(TxId(1), [1]);

        handOff.Forget(TxId(1));

        handOff.Take(TxId(1)).Should().BeNull("the store's BEEF is the one to read now");
    }
}
