using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeliveryCompaction : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "CompactedAt",
                table: "Publications",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CompactedFailed",
                table: "Publications",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedSent",
                table: "Publications",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedSkipped",
                table: "Publications",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedUnsent",
                table: "Publications",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedUnsubscribed",
                table: "Publications",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "DeliveryTotals",
                columns: table => new
                {
                    SubscriberId = table.Column<int>(type: "INTEGER", nullable: false),
                    Edition = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Delivered = table.Column<int>(type: "INTEGER", nullable: false),
                    Failed = table.Column<int>(type: "INTEGER", nullable: false),
                    FirstSlotUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSlotUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DeliveryTotals", x => new { x.SubscriberId, x.Edition });
                });

            migrationBuilder.CreateIndex(
                name: "IX_Publications_CompactedAt_CompletedAt",
                table: "Publications",
                columns: new[] { "CompactedAt", "CompletedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DeliveryTotals");

            migrationBuilder.DropIndex(
                name: "IX_Publications_CompactedAt_CompletedAt",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "CompactedAt",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "CompactedFailed",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "CompactedSent",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "CompactedSkipped",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "CompactedUnsent",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "CompactedUnsubscribed",
                table: "Publications");
        }
    }
}
