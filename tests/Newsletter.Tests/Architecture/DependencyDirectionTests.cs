using NetArchTest.Rules;
using Newsletter.Worker;

namespace Newsletter.Tests.Architecture;

/// <summary>
/// Inside the Worker, dependencies point one way: entry points (Cli, Http, Scheduling) → features
/// (Publishing, Issues, SignupEmails, Archive) → Delivery → shared parts (Editions, Links, Configuration) → Data.
/// A folder may use only folders ranked below it, so there is no loop between any two.
/// </summary>
public class DependencyDirectionTests
{
    private const string Root = "Newsletter.Worker";

    /// <summary>Every folder of src/Worker, ranked; the same rank means neither may use the other.</summary>
    private static readonly (string Folder, int Rank)[] Layers =
    [
        ("Cli", 9), ("Http", 9), ("Scheduling", 9), ("Admin", 9), ("Operations", 9),
        ("Publishing", 7),
        ("Issues", 6), ("SignupEmails", 6), ("Editors", 6), ("Bounces", 6), ("Archive", 6),
        ("Delivery", 5),
        ("Editions", 3), ("Links", 3),
        ("Configuration", 2),
        ("Data", 1),
    ];

    public static TheoryData<string> Folders() => [.. Layers.Select(l => l.Folder)];

    [Theory]
    [MemberData(nameof(Folders))]
    public void A_folder_uses_only_the_folders_ranked_below_it(string folder)
    {
        var rank = Layers.Single(l => l.Folder == folder).Rank;
        var forbidden = Layers.Where(l => l.Folder != folder && l.Rank >= rank).Select(l => $"{Root}.{l.Folder}").ToArray();

        var result = Types.InAssembly(typeof(NewsletterHost).Assembly)
            .That().ResideInNamespace($"{Root}.{folder}")
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();

        Assert.True(result.IsSuccessful,
            $"{folder} must not use {string.Join(", ", forbidden)}; offending types: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Every_folder_of_the_worker_has_a_place_in_the_layers()
    {
        var namespaces = typeof(NewsletterHost).Assembly.GetTypes()
            .Select(t => t.Namespace)
            .Where(n => n is not null && n.StartsWith(Root + ".", StringComparison.Ordinal))
            .Select(n => n![(Root.Length + 1)..].Split('.')[0])
            .Distinct()
            .Order();

        Assert.Equal(Layers.Select(l => l.Folder).Order(), namespaces);
    }

    [Fact]
    public void The_check_sees_a_dependency_that_exists()
    {
        // Guards the theory above against passing vacuously (a namespace typo matches no type).
        var result = Types.InAssembly(typeof(NewsletterHost).Assembly)
            .That().ResideInNamespace($"{Root}.Delivery")
            .ShouldNot().HaveDependencyOn($"{Root}.Data")
            .GetResult();

        Assert.False(result.IsSuccessful);
    }
}
