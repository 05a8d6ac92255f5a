using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Newsletter.Subscribers.Model;

/// <summary>
/// The Subscribers module's part of the one database. The host's DbContext applies these
/// configurations beside its own; this module reads and writes through <c>DbContext.Set&lt;T&gt;()</c>.
/// </summary>
public static class SubscriberModel
{
    public const int MaxEmailLength = 254;
    public const int MaxNameLength = 100;
    public const int MaxCrisisRegionLength = 32;
    public const int MaxEditionKeyLength = 64;
    public const int MaxSourceLength = 100;
    public const int MaxUserAgentLength = 512;
    public const int MaxIpAddressLength = 45;
    public const int MaxConsentTextVersionLength = 40;
    public const int MaxOutgoingEmailErrorLength = 1000;
    public const int MaxLeaseOwnerLength = 100;

    public static ModelBuilder ApplySubscriberModel(this ModelBuilder modelBuilder) => modelBuilder
        .ApplyConfiguration(new SubscriberConfiguration())
        .ApplyConfiguration(new SubscriptionConfiguration())
        .ApplyConfiguration(new SuppressionConfiguration())
        .ApplyConfiguration(new ConsentRecordConfiguration())
        .ApplyConfiguration(new OutgoingEmailConfiguration());

    private sealed class SubscriberConfiguration : IEntityTypeConfiguration<Subscriber>
    {
        public void Configure(EntityTypeBuilder<Subscriber> b)
        {
            b.ToTable("Subscribers");
            b.Property(s => s.Email).HasMaxLength(MaxEmailLength);
            b.Property(s => s.NormalizedEmail).HasMaxLength(MaxEmailLength);
            b.HasIndex(s => s.NormalizedEmail).IsUnique();
            b.Property(s => s.EmailHash).HasMaxLength(64).IsFixedLength();
            b.HasIndex(s => s.EmailHash);
            b.Property(s => s.LinkKey).HasMaxLength(32).IsFixedLength();
            b.HasIndex(s => s.LinkKey).IsUnique();
            b.Property(s => s.Name).HasMaxLength(MaxNameLength);
            b.Property(s => s.CrisisRegion).HasMaxLength(MaxCrisisRegionLength);
            b.HasMany(s => s.Subscriptions).WithOne(s => s.Subscriber).HasForeignKey(s => s.SubscriberId)
                .OnDelete(DeleteBehavior.Cascade);
            b.HasMany(s => s.ConsentRecords).WithOne(c => c.Subscriber).HasForeignKey(c => c.SubscriberId)
                .OnDelete(DeleteBehavior.Cascade);
            // The purge of unconfirmed sign-ups selects pending subscribers by age.
            b.HasIndex(s => new { s.Status, s.CreatedAt });
        }
    }

    private sealed class SubscriptionConfiguration : IEntityTypeConfiguration<Subscription>
    {
        public void Configure(EntityTypeBuilder<Subscription> b)
        {
            b.ToTable("Subscriptions");
            b.HasKey(s => new { s.SubscriberId, s.Edition });
            b.Property(s => s.Edition).HasMaxLength(MaxEditionKeyLength);
            // The publication snapshot selects active subscriptions of one edition.
            b.HasIndex(s => new { s.Edition, s.Status });
        }
    }

    private sealed class SuppressionConfiguration : IEntityTypeConfiguration<Suppression>
    {
        public void Configure(EntityTypeBuilder<Suppression> b)
        {
            b.ToTable("Suppressions");
            b.Property(s => s.EmailHash).HasMaxLength(64).IsFixedLength();
            b.HasIndex(s => s.EmailHash).IsUnique();
            b.Property(s => s.Note).HasMaxLength(500);
        }
    }

    private sealed class ConsentRecordConfiguration : IEntityTypeConfiguration<ConsentRecord>
    {
        public void Configure(EntityTypeBuilder<ConsentRecord> b)
        {
            b.ToTable("ConsentRecords");
            b.Property(c => c.Source).HasMaxLength(MaxSourceLength);
            b.Property(c => c.IpAddress).HasMaxLength(MaxIpAddressLength);
            b.Property(c => c.UserAgent).HasMaxLength(MaxUserAgentLength);
            b.Property(c => c.ConsentTextVersion).HasMaxLength(MaxConsentTextVersionLength);
            b.Property(c => c.Editions).HasMaxLength(1000);
            b.HasIndex(c => c.SubscriberId);
        }
    }

    private sealed class OutgoingEmailConfiguration : IEntityTypeConfiguration<OutgoingEmail>
    {
        public void Configure(EntityTypeBuilder<OutgoingEmail> b)
        {
            b.ToTable("OutgoingEmails");
            b.Property(e => e.Editions).HasMaxLength(1000);
            b.Property(e => e.LastError).HasMaxLength(MaxOutgoingEmailErrorLength);
            b.Property(e => e.LeaseOwner).HasMaxLength(MaxLeaseOwnerLength);
            // Erasing or purging a person deletes their outbox rows first (explicitly, like their
            // other rows); the cascade is only the database's own guarantee of the same.
            b.HasOne(e => e.Subscriber).WithMany().HasForeignKey(e => e.SubscriberId).OnDelete(DeleteBehavior.Cascade);
            // Claiming: due rows by status and time (pending by next attempt, sending by lease expiry).
            b.HasIndex(e => new { e.Status, e.NextAttemptAt });
            b.HasIndex(e => e.SubscriberId);
        }
    }
}
