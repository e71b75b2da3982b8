using Atomic.Bsv.Transactions;
using Atomic.Overlay;

namespace Atomic.Services.Topics;

/// <summary>
/// Told by a <see cref="TopicManagerActor"/> of each admission that removed coins from a topic it
/// <see cref="Observes"/>. The notice is saved with the admission and deleted once every observer has taken it, so a
/// notice an observer failed (threw) or that a killed process never gave is given again by the topic's reminder
/// (<c>Atomic:Overlay:ObserverRetry</c>): an observer must take the same notice twice without harm. Registered in DI;
/// features react to spends this way (the identity feature: a spent <c>tm_revocation</c> output revokes its certificate).
/// </summary>
public interface ITopicAdmissionObserver
{
    /// <summary>Whether this observer wants the spends of <paramref name="topic"/> (a topic none observes saves no notices).</summary>
    bool Observes(string topic) => true;

    /// <summary><paramref name="transaction"/> spent <paramref name="removed"/>, coins <paramref name="topic"/> held.</summary>
    Task CoinsRemovedAsync(string topic, Transaction transaction, IReadOnlyList<PreviousCoin> removed, CancellationToken cancellationToken);
}
