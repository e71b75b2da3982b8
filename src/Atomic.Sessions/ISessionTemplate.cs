namespace Atomic.Sessions;

/// <summary>
/// The rules of one kind of deal. Pure: a template sees the setup and the contributions (inputs already proven by SPV),
/// never the network or a store. The assembly, fee and signing are the same for every template
/// (<see cref="SessionAssembler"/>, <see cref="SessionSigning"/>).
/// </summary>
public interface ISessionTemplate
{
    /// <summary>The name a session is created with (<c>swap</c>, <c>supply-chain</c>, …).</summary>
    string Name { get; }

    /// <summary>Checks the terms and parties at creation: <see cref="SessionCodes.TermsInvalid"/> when they make no deal.</summary>
    SessionCheck CheckTerms(SessionSetup setup);

    /// <summary>
    /// Checks one party's contribution against the terms and what the others have contributed so far (each accepted
    /// one passed this check in its turn): <see cref="SessionCodes.ContributionInvalid"/> with the reason when it breaks
    /// the deal.
    /// </summary>
    SessionCheck CheckContribution(SessionSetup setup, IReadOnlyList<Contribution> accepted, Contribution candidate);

    /// <summary>Whether everything the deal needs is contributed (then the transaction is assembled).</summary>
    bool IsComplete(SessionSetup setup, IReadOnlyList<Contribution> accepted);

    /// <summary>The overlay topics the finished transaction is submitted to.</summary>
    IReadOnlyList<string> Topics(SessionSetup setup);
}

/// <summary>The templates this build knows, by name.</summary>
public sealed class SessionTemplates
{
    private readonly Dictionary<string, ISessionTemplate> _byName;

    public SessionTemplates(IEnumerable<ISessionTemplate> templates)
    {
        ArgumentNullException.ThrowIfNull(templates);
        _byName = new Dictionary<string, ISessionTemplate>(StringComparer.Ordinal);
        foreach (ISessionTemplate template in templates)
        {
            _byName.Add(template.Name, template);
        }
    }

    /// <summary>Every template of this library.</summary>
    public static SessionTemplates Default { get; } = new([
        new Templates.SwapTemplate(), new Templates.SupplyChainTemplate(), new Templates.BundleTemplate(),
        new Templates.EscrowTemplate(), new Templates.EscrowReleaseTemplate(), new Templates.BridgeTemplate()]);

    public IEnumerable<string> Names => _byName.Keys;

    public ISessionTemplate? Find(string name) => _byName.GetValueOrDefault(name);
}
