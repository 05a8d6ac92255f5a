using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Workspace : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "SummarySentAt",
                table: "Publications",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "UpdatedAt",
                table: "Issues",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "MuteEmptySlotWarnings",
                table: "Editors",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "MutePublicationSummaries",
                table: "Editors",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTime>(
                name: "UnsubscribedAt",
                table: "Deliveries",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SummarySentAt",
                table: "Publications");

            migrationBuilder.DropColumn(
                name: "UpdatedAt",
                table: "Issues");

            migrationBuilder.DropColumn(
                name: "MuteEmptySlotWarnings",
                table: "Editors");

            migrationBuilder.DropColumn(
                name: "MutePublicationSummaries",
                table: "Editors");

            migrationBuilder.DropColumn(
                name: "UnsubscribedAt",
                table: "Deliveries");
        }
    }
}
