using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.SqlServer
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
                type: "datetime2",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CompactedFailed",
                table: "Publications",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedSent",
                table: "Publications",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedSkipped",
                table: "Publications",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedUnsent",
                table: "Publications",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "CompactedUnsubscribed",
                table: "Publications",
                type: "int",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "DeliveryTotals",
                columns: table => new
                {
                    SubscriberId = table.Column<int>(type: "int", nullable: false),
                    Edition = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    Delivered = table.Column<int>(type: "int", nullable: false),
                    Failed = table.Column<int>(type: "int", nullable: false),
                    FirstSlotUtc = table.Column<DateTime>(type: "datetime2", nullable: false),
                    LastSlotUtc = table.Column<DateTime>(type: "datetime2", nullable: false)
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
