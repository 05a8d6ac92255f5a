using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Newsletter.Subscribers.Model;

namespace Newsletter.Worker.Data;

/// <summary>
/// The one database: the Subscribers module's entities (applied from its configurations) beside
/// the host's issues, publications and deliveries. Each provider has a subclass so that each keeps
/// its own migration history (see <see cref="SqliteNewsletterDbContext"/>, <see cref="SqlServerNewsletterDbContext"/>,
/// <see cref="PostgreSqlNewsletterDbContext"/>).
/// </summary>
public abstract class NewsletterDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Issue> Issues => Set<Issue>();

    public DbSet<Publication> Publications => Set<Publication>();

    public DbSet<DeliveryRecord> Deliveries => Set<DeliveryRecord>();

    public DbSet<Subscriber> Subscribers => Set<Subscriber>();

    public DbSet<Subscription> Subscriptions => Set<Subscription>();

    public DbSet<Suppression> Suppressions => Set<Suppression>();

    public DbSet<Setting> Settings => Set<Setting>();

    public DbSet<Editor> Editors => Set<Editor>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<Bounce> Bounces => Set<Bounce>();

    public DbSet<DeliveryTotal> DeliveryTotals => Set<DeliveryTotal>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every stored time is UTC; the providers hand DateTime back as Unspecified, so say so on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplySubscriberModel();

        modelBuilder.Entity<Issue>(b =>
        {
            b.ToTable("Issues");
            b.Property(i => i.Edition).HasMaxLength(SubscriberModel.MaxEditionKeyLength);
            b.Property(i => i.Subject).HasMaxLength(998);
            b.Property(i => i.Preheader).HasMaxLength(500);
            b.Property(i => i.SourceFile).HasMaxLength(1000);
            // The queue: an edition's queued issues in order.
            b.HasIndex(i => new { i.Edition, i.Status, i.QueuedAt });
            b.Property(i => i.ArchiveKey).HasMaxLength(Issue.MaxArchiveKeyLength);
            // An archive address names one issue of its edition, for good.
            b.HasIndex(i => new { i.Edition, i.ArchiveKey }).IsUnique();
        });

        modelBuilder.Entity<Publication>(b =>
        {
            b.ToTable("Publications");
            b.Property(p => p.Edition).HasMaxLength(SubscriberModel.MaxEditionKeyLength);
            b.Property(p => p.Note).HasMaxLength(1000);
            // The invariant the scheduler rests on: one publication per edition and slot, ever.
            b.HasIndex(p => new { p.Edition, p.SlotUtc }).IsUnique();
            b.HasIndex(p => p.Status);
            // Compaction's search: finished publications whose rows are still there.
            b.HasIndex(p => new { p.CompactedAt, p.CompletedAt });
            b.HasOne<Issue>().WithMany().HasForeignKey(p => p.IssueId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<DeliveryRecord>(b =>
        {
            b.ToTable("Deliveries");
            b.Property(d => d.LeaseOwner).HasMaxLength(100);
            b.Property(d => d.LastResult).HasMaxLength(1000);
            // One delivery per recipient per publication, whatever happens.
            b.HasIndex(d => new { d.PublicationId, d.SubscriberId }).IsUnique();
            // Claiming: the next due rows of a publication.
            b.HasIndex(d => new { d.PublicationId, d.Status, d.NextAttemptAt });
            // A subscriber's delivery history (permanent failures before suppression). SubscriberId
            // alone: a column no outcome write changes, so the index costs the hot path nothing.
            b.HasIndex(d => d.SubscriberId);
            b.HasOne<Publication>().WithMany().HasForeignKey(d => d.PublicationId).OnDelete(DeleteBehavior.Cascade);
            // No foreign key to Subscribers: erasing a person must not erase the record that a
            // publication went out, and must not be blocked by it.
        });

        modelBuilder.Entity<Setting>(b =>
        {
            b.ToTable("Settings");
            b.HasKey(s => s.Key);
            b.Property(s => s.Key).HasMaxLength(100);
        });

        modelBuilder.Entity<Editor>(b =>
        {
            b.ToTable("Editors");
            b.Property(e => e.Email).HasMaxLength(SubscriberModel.MaxEmailLength);
            b.Property(e => e.Name).HasMaxLength(SubscriberModel.MaxNameLength);
            b.Property(e => e.PasswordHash).HasMaxLength(500);
            b.HasIndex(e => e.Email).IsUnique();
        });

        modelBuilder.Entity<AuditEntry>(b =>
        {
            b.ToTable("AuditLog");
            b.Property(a => a.Actor).HasMaxLength(320);
            b.Property(a => a.Action).HasMaxLength(100);
            b.Property(a => a.Target).HasMaxLength(500);
            b.Property(a => a.Details).HasMaxLength(2000);
            b.HasIndex(a => a.At);
        });

        modelBuilder.Entity<Bounce>(b =>
        {
            b.ToTable("Bounces");
            b.Property(x => x.Key).HasMaxLength(Bounce.KeyLength);
            b.Property(x => x.Status).HasMaxLength(Bounce.MaxStatusLength);
            b.Property(x => x.Detail).HasMaxLength(Bounce.MaxDetailLength);
            b.Property(x => x.Reason).HasMaxLength(Bounce.MaxReasonLength);
            b.HasIndex(x => x.Key).IsUnique();
            // A reader's history and their soft bounces in the window; an issue's results; the status counts.
            b.HasIndex(x => new { x.SubscriberId, x.ReceivedAt });
            b.HasIndex(x => x.PublicationId);
            b.HasIndex(x => x.ReceivedAt);
        });

        modelBuilder.Entity<DeliveryTotal>(b =>
        {
            b.ToTable("DeliveryTotals");
            b.HasKey(t => new { t.SubscriberId, t.Edition });
            b.Property(t => t.Edition).HasMaxLength(SubscriberModel.MaxEditionKeyLength);
            // Like delivery rows, no foreign key to Subscribers: erasure deletes these itself.
        });
    }

    internal sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

/// <summary>The embedded default. Migrations in Data/Migrations/Sqlite.</summary>
public sealed class SqliteNewsletterDbContext(DbContextOptions<SqliteNewsletterDbContext> options)
    : NewsletterDbContext(options);

/// <summary>The production store. Migrations in Data/Migrations/SqlServer.</summary>
public sealed class SqlServerNewsletterDbContext(DbContextOptions<SqlServerNewsletterDbContext> options)
    : NewsletterDbContext(options);

/// <summary>The server database for several instances. Migrations in Data/Migrations/PostgreSql.</summary>
public sealed class PostgreSqlNewsletterDbContext(DbContextOptions<PostgreSqlNewsletterDbContext> options)
    : NewsletterDbContext(options);
