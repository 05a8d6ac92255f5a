namespace Newsletter.Worker.Data;

/// <summary>An issue the editor has queued for an edition. Every time stored is UTC.</summary>
public sealed class Issue
{
    public const int MaxArchiveKeyLength = 100;

    public int Id { get; set; }

    public required string Edition { get; set; }

    public required string Subject { get; set; }

    public string? Preheader { get; set; }

    /// <summary>When set, the issue goes out at that day's slot (a date in the edition's time zone)
    /// and is not taken as the head of the queue on other days.</summary>
    public DateOnly? SendOn { get; set; }

    /// <summary>Edition-specific front-matter values (theme, sources, examples…) as JSON.</summary>
    public string ExtrasJson { get; set; } = "{}";

    /// <summary>The body as the editor wrote it, front matter removed.</summary>
    public required string BodyMarkdown { get; set; }

    /// <summary>The file the issue was queued from, for the editor's reference.</summary>
    public string? SourceFile { get; set; }

    public IssueStatus Status { get; set; }

    public DateTime QueuedAt { get; set; }

    public DateTime? PublishedAt { get; set; }

    public DateTime? CancelledAt { get; set; }

    /// <summary>When the issue was last changed in the workspace (a draft saved, a queued issue edited).</summary>
    public DateTime? UpdatedAt { get; set; }

    /// <summary>False when the front matter says <c>archive: false</c>: published, but never shown in the public archive.</summary>
    public bool InArchive { get; set; } = true;

    /// <summary>The issue's stable address in its edition's archive, <c>{date}-{slug}</c> (the publication's date in
    /// the edition's time zone, the subject's slug); set once, when it is published.</summary>
    public string? ArchiveKey { get; set; }
}

public enum IssueStatus
{
    Queued = 0,
    Published = 1,
    Cancelled = 2,

    /// <summary>Being written in the workspace: not checked yet, never published until queued.</summary>
    Draft = 3,
}

/// <summary>Edition-specific front-matter values, stored with the issue as JSON.</summary>
public sealed record IssueExtras
{
    public string? Headline { get; init; }
    public string? Fact { get; init; }
    public string? Tip { get; init; }
    public string? Theme { get; init; }
    public List<IssueSource> Sources { get; init; } = [];
    public List<string> Examples { get; init; } = [];
    public string? EditionLabel { get; init; }
    public string? FeaturedPerson { get; init; }
    public string? AuthorsNote { get; init; }
    public string? Image { get; init; }
    public string? ImageAlt { get; init; }
}

public sealed record IssueSource(string Title, string Url);
