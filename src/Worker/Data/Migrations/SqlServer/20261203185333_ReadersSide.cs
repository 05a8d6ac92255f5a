using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class ReadersSide : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CrisisRegion",
                table: "Subscribers",
                type: "nvarchar(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "PausedUntil",
                table: "Subscribers",
                type: "datetime2",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ArchiveKey",
                table: "Issues",
                type: "nvarchar(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "InArchive",
                table: "Issues",
                type: "bit",
                nullable: false,
                // Issues published before the archive existed belong in it.
                defaultValue: true);

            migrationBuilder.CreateIndex(
                name: "IX_Issues_Edition_ArchiveKey",
                table: "Issues",
                columns: new[] { "Edition", "ArchiveKey" },
                unique: true,
                filter: "[ArchiveKey] IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Issues_Edition_ArchiveKey",
                table: "Issues");

            migrationBuilder.DropColumn(
                name: "CrisisRegion",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "PausedUntil",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "ArchiveKey",
                table: "Issues");

            migrationBuilder.DropColumn(
                name: "InArchive",
                table: "Issues");
        }
    }
}
