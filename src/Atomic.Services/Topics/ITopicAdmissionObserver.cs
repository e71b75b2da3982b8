using Atomic.Bsv.Transactions;
using Atomic.Overlay;

namespace Atomic.Services.Topics;

/// <summary>
/// Told by a <see cref="TopicManagerActor"/> once per admission that removed coins from its topic (the admission's
/// state is saved first; a repeated admission tells nobody). Registered in DI; features react to spends this way
/// (the identity feature: a spent <c>tm_revocation</c> output revokes its certificate).
/// </summary>
public interface ITopicAdmissionObserver
{
    /// <summary><paramref name="transaction"/> spent <paramref name="removed"/>, coins <paramref name="topic"/> held.</summary>
    Task CoinsRemovedAsync(string topic, Transaction transaction, IReadOnlyList<PreviousCoin> removed, CancellationToken cancellationToken);
}
