using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// Places a grain keyed <c>"&lt;silo name&gt;/&lt;id&gt;"</c> on the active silo of that name: how the learner reaches the
/// sampler of one particular silo (a stateless worker would run beside its caller, and random placement could put every
/// sampler on one silo).
/// </summary>
[Serializable, GenerateSerializer, Immutable]
internal sealed class SiloNamePlacement : PlacementStrategy
{
    /// <summary>The grain key for <paramref name="id"/> on the silo named <paramref name="silo"/>.</summary>
    public static string Key(string silo, string id) => $"{silo}/{id}";
}

/// <summary>Marks a grain class as placed by <see cref="SiloNamePlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloNamePlacementAttribute : PlacementAttribute
{
    public SiloNamePlacementAttribute()
        : base(new SiloNamePlacement())
    {
    }
}

/// <summary>Resolves the silo name of the key against the membership table's active silos.</summary>
internal sealed class SiloNamePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString()!;
        int slash = key.IndexOf('/');
        if (slash <= 0) throw new ArgumentException($"Grain key '{key}' must look like '<silo name>/<id>'.");
        string silo = key[..slash];
        var compatible = context.GetCompatibleSilos(target);
        if (Find(silo, compatible) is { } address) return address;
        // This silo's view of the membership may lag the table (a silo that joined a moment ago, which the job already
        // saw through the management grain): read the table once more before giving up.
        await membership.Refresh();
        return Find(silo, context.GetCompatibleSilos(target))
            ?? throw new SiloUnavailableException($"No active silo is named '{silo}' (active: {string.Join(", ", Active().Select(m => m.Name))}).");
    }

    private List<ClusterMember> Active() => membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).ToList();

    private SiloAddress? Find(string silo, SiloAddress[] compatible)
    {
        foreach (var member in Active())
            if (member.Name == silo && compatible.Contains(member.SiloAddress))
                return member.SiloAddress;
        return null;
    }
}
